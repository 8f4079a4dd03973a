"""The API fuzzed from its own OpenAPI schema, served live.

schemathesis reads `/api/v1/schema/` from pytest-django's live server and sends, for every
operation, generated requests (valid and invalid) with a fixed seed, deterministically, at
most MAX_EXAMPLES per operation in the fuzzing phase (plus its examples and coverage phases):
once as a customer and once as an Inventory manager (JWT Bearer). Every answer must be free of
5xx and conform to the schema: a documented status code, content type and body.

It runs schemathesis' engine (what `schemathesis run` runs) rather than its pytest plugin,
whose lazy loader does not work under pytest 9. Every failure is listed with its operation,
check, request (as curl) and response.

Throttling is off for the run: a fuzzer is a flood by design, and 429 is tested elsewhere.
`DELETE auth/me/` and `POST auth/password/` stay in: they need the account's password, which
the fuzzer cannot guess, so they cannot kill the fuzzing account (a 204 from either would
mean that a wrong password was accepted).
"""

import pytest
import schemathesis
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from accounts import services
from accounts.api.serializers import ProfileSerializer
from accounts.tests.factories import StaffFactory, UserFactory
from inventory.models import Category, Product

MAX_EXAMPLES = 50
SEED = 20261124
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def _no_throttling(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


@pytest.fixture
def _fast_password_hashing(settings):
    """Login, register and password change hash on every request: keep that cheap here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seed_catalog():
    """A few rows so that list and detail answers have real bodies to validate."""
    tools = Category.objects.create(name="Fuzz tools")
    Category.objects.create(name="Fuzz empty")
    for n in range(3):
        Product.objects.create(
            sku=f"FUZZ-{n}",
            name=f"Fuzz product {n}",
            category=tools,
            price="9.90",
            cost="4.00",
            quantity=50,
        )


def _config(token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},  # no state carried between runs (nor a .schemathesis/)
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # Django's development server answers a kept-alive connection ~40 ms late (delayed
            # ACK): a new connection per request is ten times faster here.
            "headers": {"Authorization": f"Bearer {token}", "Connection": "close"},
            "request-timeout": 10,
            "continue-on-failure": True,  # every distinct failure, not just each operation's first
            "workers": 1,
        }
    )


def _describe(label: str, check, recorder) -> str:
    info = check.failure_info
    lines = [f"{label}: {check.name}: {info.failure.title}", f"  {info.failure.message}"]
    lines += [f"  {line}" for line in info.code_sample.splitlines()]
    for case_id, interaction in recorder.interactions.items():
        response = interaction.response
        if response is not None and any(c is check for c in recorder.checks.get(case_id, [])):
            body = response.content[:500].decode("utf-8", "replace") if response.content else ""
            lines.append(f"  -> {response.status_code} {body}")
    return "\n".join(lines)


def fuzz(base_url: str, token: str, **include) -> tuple[list[str], int]:
    """Run schemathesis over the live schema (or the operations `include` selects, as in
    `schema.include(...)`); returns (failure descriptions, operations run)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/schema/", config=_config(token))
    if include:
        schema = schema.include(**include)
    failures, labels, seen = [], set(), set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            labels.add(event.recorder.label)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status != Status.FAILURE or check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    key = (event.recorder.label, check.name, failure.title, failure.message)
                    if key not in seen:
                        seen.add(key)
                        failures.append(_describe(event.recorder.label, check, event.recorder))
        elif isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: error: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return failures, len(labels)


@pytest.mark.parametrize("role", ["customer", "inventory"])
def test_api_schema_fuzz_conforms(role, live_server, _no_throttling, _fast_password_hashing):
    _seed_catalog()
    user = UserFactory() if role == "customer" else StaffFactory(role=role)
    token = str(RefreshToken.for_user(user).access_token)

    failures, operations = fuzz(live_server.url, token)

    assert operations > 0
    assert not failures, f"{len(failures)} schema failures as {role}:\n\n" + "\n\n".join(failures)
    user.refresh_from_db()
    assert user.is_active  # the fuzzing account survived


def test_api_schema_fuzz_reports_server_errors_and_undocumented_bodies(
    live_server, customer, monkeypatch, _fast_password_hashing
):
    """The harness itself: a 500 and a body that breaks the schema are both reported."""

    def crash(**kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(ProfileSerializer, "to_representation", lambda self, user: {"id": "x"})
    monkeypatch.setattr(services, "user_update_profile", crash)
    token = str(RefreshToken.for_user(customer).access_token)

    failures, operations = fuzz(live_server.url, token, path="/api/v1/auth/me/")

    assert operations == 3
    report = "\n".join(failures)
    assert "GET /api/v1/auth/me/: response_schema_conformance" in report
    assert "PATCH /api/v1/auth/me/: not_a_server_error" in report
    assert "-> 500" in report
