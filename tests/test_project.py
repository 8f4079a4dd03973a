"""The project as operators meet it: health, docs, admin, settings, deploy checks."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import OperationalError

from accounts.tests.factories import PASSWORD, StaffFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "SECRET_KEY": "x9!k2Lr8vQ3mZ7pT1wY5bN0cF4hJ6dS-production-like-secret-key",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "shop.example.com",
    "SECURE_PROXY_SSL_HEADER_ENABLED": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
}


def run_manage(*args, env, timeout=120):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_503_when_database_unreachable(client, monkeypatch):
    def refuse(self):
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


@pytest.mark.django_db
def test_schema_is_openapi_3_and_lists_the_auth_endpoints(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("register", "login", "refresh", "logout", "logout-all", "me", "password"):
        assert f"/api/v1/auth/{path}/" in schema["paths"]


@pytest.mark.django_db
def test_swagger_ui_is_served_from_local_static_files(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(not a.startswith("http") for a in assets), assets
    bundle = next(a for a in assets if a.endswith("swagger-ui-bundle.js"))
    assert client.get(bundle).status_code == 200


@pytest.mark.django_db
def test_admin_login_page_and_css_load_with_debug_off(client, settings):
    assert settings.DEBUG is False

    page = client.get("/admin/login/")

    assert page.status_code == 200
    css = re.search(r'href="([^"]+/admin/css/base[^"]*\.css)"', page.content.decode()).group(1)
    style = client.get(css)
    assert style.status_code == 200
    assert style["Content-Type"].startswith("text/css")
    assert b"body" in b"".join(style.streaming_content)


@pytest.mark.django_db
def test_customer_cannot_log_into_admin(client):
    customer = UserFactory()

    response = client.post("/admin/login/", {"username": customer.email, "password": PASSWORD})

    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_staff_logs_into_admin_by_email_any_case(client):
    staff = StaffFactory(role="orders")

    response = client.post("/admin/login/", {"username": staff.email.upper(), "password": PASSWORD})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_check_deploy_is_clean_under_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_server_refuses_to_start_without_secret_key_when_debug_off():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_secret_key():
    result = run_manage("check", env={"DEBUG": "true", "SECRET_KEY": ""})

    assert result.returncode == 0, result.stderr


def test_collectstatic_builds_hashed_manifest_for_production(tmp_path):
    env = {**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path)}

    result = run_manage("collectstatic", "--noinput", env=env, timeout=300)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").is_file()
    assert list((tmp_path / "admin" / "css").glob("base.*.css"))
    assert list((tmp_path / "drf_spectacular_sidecar").rglob("swagger-ui-bundle.js"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/orders/0.5/", "/api/v1/categories/%C2%84/", "/api/v1/nope"]
)
def test_unknown_api_address_is_a_json_404(path):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_api_address_without_trailing_slash_redirects(client):
    response = client.get("/api/v1/products?page=2")

    assert response.status_code == 308
    assert response["Location"] == "/api/v1/products/?page=2"


@pytest.mark.django_db
def test_bare_list_validation_error_keeps_the_object_shape():
    from rest_framework.exceptions import ValidationError

    from shop.exceptions import exception_handler

    response = exception_handler(ValidationError("Null characters are not allowed."), {})

    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Null characters are not allowed."]}
