"""Who the client is behind proxies (TRUSTED_PROXY_COUNT), the API login throttle that keys on
it, and the admin login lockout (django-axes, API.md's rule)."""

import os
import uuid

import pytest
from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings as django_settings
from django.core.cache import CacheHandler, caches
from django.test import Client, override_settings

from accounts.tests.factories import PASSWORD, StaffFactory, UserFactory
from shop.security import client_address

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def proxies(settings):
    def set_count(count):
        settings.TRUSTED_PROXY_COUNT = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return set_count


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, None, "10.0.0.9"),
        (0, "1.1.1.1", "10.0.0.9"),  # no trusted proxy: the header is the client's own words
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # the spoofed left part is ignored
        (2, "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"),
        (1, None, "10.0.0.9"),
    ],
)
def test_client_address_counts_trusted_proxies_from_the_right(
    rf, proxies, count, forwarded, expected
):
    proxies(count)
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", **headers)

    assert client_address(request) == expected


def test_settings_trusted_proxy_count_defaults_to_zero(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def _login(client, email, password, forwarded):
    return client.post(
        LOGIN, {"email": email, "password": password}, HTTP_X_FORWARDED_FOR=forwarded
    )


def test_api_login_throttle_not_bypassed_by_changing_x_forwarded_for(api_client):
    """Finding 2: 25 wrong logins, each with another X-Forwarded-For, then the right one."""
    user = UserFactory()
    codes = [
        _login(api_client, user.email, "wrong", f"203.0.113.{i}").status_code for i in range(25)
    ]

    assert codes.count(429) >= 15
    assert _login(api_client, user.email, PASSWORD, "198.51.100.1").status_code == 429


def test_api_login_throttle_behind_one_proxy_keys_on_the_proxys_entry(api_client, proxies):
    proxies(1)
    user = UserFactory()
    for i in range(10):
        forwarded = f"203.0.113.{i}, 192.0.2.1"  # client-chosen part, then what the proxy saw
        assert _login(api_client, user.email, "wrong", forwarded).status_code == 401

    assert _login(api_client, user.email, PASSWORD, "8.8.8.8, 192.0.2.1").status_code == 429
    # another client behind the same proxy is not throttled
    assert _login(api_client, user.email, PASSWORD, "192.0.2.2").status_code == 200


# --- admin login lockout (django-axes) ---------------------------------------------------------


def _admin_login(client, email, password, **headers):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, **headers)


@pytest.fixture
def staff():
    return StaffFactory(role="orders", email="staff@example.com")


def test_admin_login_locked_after_ten_failures_even_with_right_password(staff):
    client = Client()
    codes = [_admin_login(client, staff.email, "wrong").status_code for _ in range(10)]
    assert codes == [200] * 9 + [429]  # the login form with its error; the 10th locks

    response = _admin_login(client, staff.email, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed login attempts" in page
    assert "15 minutes" in page
    assert 'id="site-name"' in page  # an admin page, not a bare text


def test_admin_login_nine_failures_then_right_password_logs_in(staff):
    client = Client()
    for _ in range(9):
        _admin_login(client, staff.email, "wrong")

    response = _admin_login(client, staff.email, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_admin_login_success_resets_the_count(staff):
    client = Client()
    for _ in range(9):
        _admin_login(client, staff.email, "wrong")
    assert _admin_login(client, staff.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(9):
        _admin_login(client, staff.email, "wrong")

    assert _admin_login(client, staff.email, PASSWORD).status_code == 302


def test_admin_lockout_is_per_email_and_address_whatever_the_case(staff):
    other = StaffFactory(role="orders", email="other@example.com")
    client = Client()
    for i in range(10):
        email = staff.email.upper() if i % 2 else staff.email
        _admin_login(client, email, "wrong")

    assert _admin_login(client, staff.email.upper(), PASSWORD).status_code == 429
    assert _admin_login(Client(), other.email, PASSWORD).status_code == 302
    assert _admin_login(Client(REMOTE_ADDR="10.9.9.9"), staff.email, PASSWORD).status_code == 302


def test_admin_lockout_not_escaped_by_changing_x_forwarded_for(staff):
    client = Client()
    for i in range(10):
        _admin_login(client, staff.email, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    response = _admin_login(client, staff.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 429


def test_admin_lockout_behind_one_proxy_keys_on_the_forwarded_address(staff, proxies):
    proxies(1)
    client = Client()
    for i in range(10):
        forwarded = f"6.6.6.{i}, 203.0.113.5"
        _admin_login(client, staff.email, "wrong", HTTP_X_FORWARDED_FOR=forwarded)

    locked = _admin_login(client, staff.email, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5")
    elsewhere = _admin_login(client, staff.email, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_admin_lockout_expires_after_fifteen_minutes(staff, settings):
    from datetime import timedelta

    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    client = Client()
    for _ in range(10):
        _admin_login(client, staff.email, "wrong")
    assert _admin_login(client, staff.email, PASSWORD).status_code == 429

    import time

    time.sleep(1.2)
    assert _admin_login(client, staff.email, PASSWORD).status_code == 302


def test_api_login_is_not_locked_by_axes(api_client, staff, settings):
    """The lockout is the admin's; the API login is throttled per address instead."""
    client = Client()
    for _ in range(10):
        _admin_login(client, staff.email, "wrong")

    response = api_client.post(LOGIN, {"email": staff.email, "password": PASSWORD})

    assert response.status_code == 200


@pytest.fixture
def redis_cache():
    """The default cache on the real Redis (LOCKOUT_TEST_REDIS_URL, default DB 1)."""
    redis = pytest.importorskip("redis")
    url = os.environ.get("LOCKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url}")
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": f"lockout-test-{uuid.uuid4().hex}",
    }
    with override_settings(CACHES={"default": cache}):
        AxesProxyHandler.get_implementation(force=True)  # it holds its cache
        yield
        caches["default"].clear()
    AxesProxyHandler.get_implementation(force=True)


def test_admin_lockout_counts_are_shared_through_redis(rf, staff, redis_cache):
    """With CACHE_URL on Redis the counts are shared: another worker's own connection (a new
    cache handler here) sees the ten failures, and the login is refused."""
    client = Client()
    for _ in range(10):
        _admin_login(client, staff.email, "wrong")

    other_worker = AxesCacheHandler()
    other_worker.cache = CacheHandler(django_settings.CACHES)["default"]
    request = rf.post("/admin/login/", REMOTE_ADDR="127.0.0.1")
    AxesProxyHandler.update_request(request)

    assert other_worker.get_failures(request, {"username": staff.email}) == 10
    assert _admin_login(Client(), staff.email, PASSWORD).status_code == 429
