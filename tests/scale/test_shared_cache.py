"""Throttles shared by every web server through Redis (CACHE_URL=redis://…)."""

import pytest

from tests.scale.services import REDIS_URL, Gunicorn, child_env, redis_available, require, unique

LOGIN = "/api/v1/auth/login/"


def _servers(tmp_path, cache_url: str) -> list[Gunicorn]:
    env = child_env(
        CACHE_URL=cache_url,
        THROTTLE_AUTH_RATE="3/min",
        # An empty login body is refused before any database access: no database needed.
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    servers = []
    try:
        for n in range(2):
            servers.append(Gunicorn(env, tmp_path / f"gunicorn-{n}.log"))
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


def _alternate(servers: list[Gunicorn], requests: int) -> list[int]:
    return [servers[i % 2].post(LOGIN) for i in range(requests)]


def test_two_servers_sharing_redis_enforce_one_throttle(tmp_path):
    require(redis_available(), f"Redis ({REDIS_URL})")
    servers = _servers(tmp_path, f"{REDIS_URL}?key_prefix={unique('shop-test-')}")
    try:
        statuses = _alternate(servers, 6)
    finally:
        for server in servers:
            server.stop()

    # Three attempts a minute from this address in all, whichever server answers.
    assert statuses == [400, 400, 400, 429, 429, 429]


def test_two_servers_with_memory_caches_each_count_alone(tmp_path):
    """The failure the shared cache fixes: per-process counts let six attempts through."""
    servers = _servers(tmp_path, "locmemcache://")
    try:
        statuses = _alternate(servers, 8)
    finally:
        for server in servers:
            server.stop()

    assert statuses == [400] * 6 + [429, 429]


@pytest.mark.django_db
def test_redis_cache_url_uses_djangos_redis_backend(settings):
    import environ

    config = environ.Env.cache_url_config("redis://127.0.0.1:6379/4")

    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "redis://127.0.0.1:6379/4"
