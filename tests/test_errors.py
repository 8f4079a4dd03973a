"""API.md: every answer under /api/ is JSON, errors included, with the documented codes;
nothing a client sends gets a 5xx (issue 17, findings 6 and 12)."""

import json

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.db import OperationalError
from django.test import Client

from accounts.tests.factories import StaffFactory, UserFactory
from inventory import selectors
from shop.parsers import json_depth

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"


def quiet_client():
    """A client that answers as the server would rather than re-raising the view's error."""
    return Client(raise_request_exception=False)


def assert_json_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- nesting (finding 6) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [{"b": []}]}', 4),
        ('["[[[[", "\\"[[[", {"k]": "}}"}]', 2),
        ("[" * 40 + "]" * 40, 40),
        ('"unterminated \\', 0),
    ],
)
def test_json_depth_ignores_brackets_in_strings(text, depth):
    assert json_depth(text) == depth


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_a_400_even_anonymous(depth):
    """Finding 6: a 2 KB body nested 1,000 deep raised RecursionError (500) on login."""
    body = '{"email": ' + "[" * depth + "]" * depth + ', "password": "x"}'

    response = quiet_client().post(LOGIN, body, content_type="application/json")

    assert_json_error(response, 400, "parse_error")
    assert "32" in response.json()["detail"]


def test_json_nested_32_deep_is_parsed(client_for):
    user = UserFactory()
    nested = [[1]]
    for _ in range(29):
        nested = [nested]
    body = json.dumps({"full_name": nested})  # object + 31 arrays = 32 levels
    assert json_depth(body) == 32

    response = client_for(user).patch("/api/v1/auth/me/", body, content_type="application/json")

    assert response.status_code == 400  # parsed: a field error, not a parse error
    assert "full_name" in response.json()


# --- JSON for every error under /api/ (finding 12) -------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/products/%0A/", "/api/v1/products/%0A", "/api/nope/", "/api/v2/x/"]
)
def test_unknown_api_address_is_json_404(path):
    assert_json_error(quiet_client().get(path), 404, "not_found")


def test_unknown_object_is_json_404_with_code(api_client):
    assert_json_error(api_client.get("/api/v1/products/999999/"), 404, "not_found")


def test_method_not_allowed_is_json_405_with_code(client_for):
    client = client_for(UserFactory())
    assert_json_error(client.put("/api/v1/auth/me/", {}), 405, "method_not_allowed")


def test_body_over_the_limit_is_json_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"email": "a@example.com", "password": "x" * 2000})

    response = quiet_client().post(LOGIN, body, content_type="application/json")

    assert_json_error(response, 413, "request_too_large")


def test_body_over_5_mb_is_json_413():
    body = json.dumps({"email": "a@example.com", "password": "x" * (5 * 1024 * 1024)})

    response = quiet_client().post(LOGIN, body, content_type="application/json")

    assert_json_error(response, 413, "request_too_large")


def test_form_body_over_the_limit_is_json_413(settings, client_for):
    """Django's own refusal (RequestDataTooBig, from its multipart parser), not DRF's."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = client_for(StaffFactory(role="inventory"))

    response = client.post(
        "/api/v1/products/import/", {"dry_run": "x" * 5000, "note": "y"}, format="multipart"
    )

    assert_json_error(response, 413, "request_too_large")


def test_unexpected_error_in_a_view_is_json_500_without_details(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "product_queryset", broken)

    response = quiet_client().get("/api/v1/products/")

    assert assert_json_error(response, 500, "server_error") == {
        "detail": "Server error.",
        "code": "server_error",
    }
    assert b"secret" not in response.content


def test_database_error_in_a_view_is_json_503(monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "product_queryset", down)

    response = quiet_client().get("/api/v1/products/")

    assert_json_error(response, 503, "service_unavailable")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("boom"), 500, "server_error"),
        (OperationalError("down"), 503, "service_unavailable"),
    ],
)
def test_error_outside_drf_is_json_under_api_and_html_elsewhere(monkeypatch, error, status, code):
    def broken(self, request):
        raise error

    monkeypatch.setattr(AuthenticationMiddleware, "process_request", broken)
    client = quiet_client()

    assert_json_error(client.get("/api/v1/products/"), status, code)
    admin = client.get("/admin/login/")
    assert admin.status_code == 500
    assert admin["Content-Type"].startswith("text/html")


def test_unknown_address_outside_api_stays_html():
    response = quiet_client().get("/nope/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
