# Production image: Python 3.11 slim, non-root, static files collected at build, gunicorn.
# The same image runs the Celery processes: `celery -A shop worker`, `celery -A shop beat`
# (docker-compose.yml).
# (No Docker engine runs on the development machines: this file is written, not built, there.)
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

RUN groupadd --system shop && useradd --system --gid shop --home-dir /app --no-create-home shop

COPY --chown=shop:shop . .

# collectstatic needs settings to import: a throwaway key, used for this step only.
RUN SECRET_KEY=collectstatic-only DEBUG=false STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput

# Import jobs' files (MEDIA_ROOT): mount one volume here on every web and worker container.
RUN mkdir -p /app/media && chown shop:shop /app/media

USER shop
EXPOSE 8000
ENV STATIC_ROOT=/app/staticfiles

HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"

# Sync workers (gunicorn's default), two a core: behind the buffering proxy of a production
# setup each request is served start to finish by one process, taken from one accept queue, so
# no worker piles up keep-alive connections while another idles (bench/catalog.py: p99 about
# half that of 3 workers x 2 threads, for the same throughput). WEB_CONCURRENCY sets the count.
ENV WEB_CONCURRENCY=4
CMD ["gunicorn", "shop.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
