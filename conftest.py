"""Fixtures shared by every app's tests."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI") and not os.environ.get("CI_SQLITE"):
        # CI runs the suite on PostgreSQL, then again on SQLite with CI_SQLITE set (.ci/run).
        raise pytest.UsageError("CI must run on PostgreSQL: set DATABASE_URL=postgres://…")
    skip = pytest.mark.skip(reason="needs PostgreSQL's row locking (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    """Tests do not run collectstatic; tests/test_deploy.py covers the manifest storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs ~0.2 s a user; tests check behaviour, not the hash's strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _gateway_ledger(settings, tmp_path):
    """Each test has the built-in test gateway's records (a file) to itself."""
    settings.TEST_GATEWAY_LEDGER = tmp_path / "test-gateway.sqlite3"


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for(db):
    """client_for(user) -> an APIClient authenticated with a real JWT access token."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    def make(user):
        client = APIClient()
        if user is not None:
            token = RefreshToken.for_user(user).access_token
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@pytest.fixture
def customer(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def inventory_manager(db):
    from accounts.tests.factories import StaffFactory

    return StaffFactory(role="inventory")


@pytest.fixture
def order_manager(db):
    from accounts.tests.factories import StaffFactory

    return StaffFactory(role="orders")


@pytest.fixture
def analyst(db):
    from accounts.tests.factories import StaffFactory

    return StaffFactory(role="analytics")


@pytest.fixture
def superuser(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True)
