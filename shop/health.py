"""GET /healthz: 200 when every configured part answers within HEALTH_TIMEOUT seconds, else 503.

Always the database (in the request's thread, bounded by its connect timeout); the cache when
it is shared (CACHE_URL other than per-process memory); the broker when jobs run on workers
(CELERY_BROKER_URL). Those two run in threads, so a part that hangs costs at most
HEALTH_TIMEOUT and is reported as "error".
"""

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEALTH_TIMEOUT = 2.0  # seconds, per part (API.md)
_LOCAL_CACHES = ("locmem", "dummy")


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return "error"
    return "ok"


def _check_cache():
    cache.set("healthz", "ok", timeout=10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("the cache did not keep a value")


def _check_broker():
    from shop.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=HEALTH_TIMEOUT)


def _checks() -> dict:
    checks = {}
    backend = settings.CACHES["default"]["BACKEND"].lower()
    if not any(local in backend for local in _LOCAL_CACHES):
        checks["cache"] = _check_cache
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = _check_broker
    return checks


@never_cache
@require_GET
def healthz(request):
    """{"status", "database"[, "cache"][, "broker"]}: each "ok" or "error"."""
    answer = {"database": _check_database()}
    checks = _checks()
    if checks:
        pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="healthz")
        futures = {name: pool.submit(check) for name, check in checks.items()}
        for name, future in futures.items():
            try:
                future.result(timeout=HEALTH_TIMEOUT)
                answer[name] = "ok"
            except (FutureTimeout, Exception):  # noqa: BLE001 - any failure: "not healthy"
                answer[name] = "error"
        pool.shutdown(wait=False, cancel_futures=True)  # a hung check is not awaited
    healthy = all(value == "ok" for value in answer.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **answer}, status=200 if healthy else 503
    )
