"""/healthz reports the shared cache and the broker when they are configured."""

import time

import pytest

from tests.scale.services import (
    AMQP_URL,
    REDIS_URL,
    free_port,
    rabbitmq_available,
    redis_available,
    require,
    unique,
)


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": unique("shop-test-"),
        }
    }


def _health(client):
    started = time.monotonic()
    response = client.get("/healthz")
    return response.status_code, response.json(), time.monotonic() - started


@pytest.mark.django_db
def test_healthz_reports_the_redis_cache(client, redis_cache):
    require(redis_available(), f"Redis ({REDIS_URL})")

    status, body, _ = _health(client)

    assert (status, body) == (200, {"status": "ok", "database": "ok", "cache": "ok"})


@pytest.mark.django_db
def test_healthz_503_when_the_cache_does_not_answer(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        }
    }

    status, body, _ = _health(client)

    assert (status, body) == (503, {"status": "error", "database": "ok", "cache": "error"})


@pytest.mark.django_db
def test_healthz_gives_a_hanging_cache_two_seconds(client, redis_cache, monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    monkeypatch.setattr(RedisCache, "get", lambda *args, **kwargs: time.sleep(5))

    status, body, elapsed = _health(client)

    assert (status, body["cache"]) == (503, "error")
    assert 1.9 < elapsed < 3.5


@pytest.mark.django_db
def test_healthz_reports_the_broker(client, settings):
    require(rabbitmq_available(), f"RabbitMQ ({AMQP_URL})")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = AMQP_URL

    status, body, _ = _health(client)

    assert (status, body) == (200, {"status": "ok", "database": "ok", "broker": "ok"})


@pytest.mark.django_db
def test_healthz_503_when_the_broker_does_not_answer(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{free_port()}//"

    status, body, elapsed = _health(client)

    assert (status, body) == (503, {"status": "error", "database": "ok", "broker": "error"})
    assert elapsed < 3.5
