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
from schemathesis.engine.run import PhaseName

from accounts import services
from accounts.api.serializers import ProfileSerializer
from accounts.tests.factories import StaffFactory, UserFactory
from inventory.models import Category, Product

MAX_EXAMPLES = 5
SEED = 20261124
ROLES = ["anonymous", "customer", "inventory", "orders", "analytics", "superuser"]
# Where the contract answers 400 to a request the schema cannot tell apart from a good one:
# a taken email or weak password, a wrong current password, too little stock, an unknown
# or archived product. positive_data_acceptance accepts a 400 there, and only there.
STATE_DEPENDENT_400 = [
    ("/api/v1/auth/register/", "POST"),
    ("/api/v1/auth/password/", "POST"),
    ("/api/v1/auth/me/", "DELETE"),
    ("/api/v1/auth/me/", "PATCH"),  # a taken email
    ("/api/v1/orders/", "POST"),
    ("/api/v1/orders/{id}/", "PATCH"),
    ("/api/v1/products/", "POST"),  # a taken SKU or name, an unknown category
    ("/api/v1/products/{id}/", "PATCH"),
    ("/api/v1/categories/", "POST"),  # a taken name
    ("/api/v1/categories/{id}/", "PATCH"),
    ("/api/v1/products/import/", "POST"),  # the file's rows
    ("/api/v1/analytics/profit/", "GET"),  # date_from after date_to
    ("/api/v1/analytics/product-sales/", "GET"),
    ("/api/v1/analytics/category-sales/", "GET"),
]
# DRF's conventions read some values leniently rather than refuse them: `page_size` that is
# not a positive integer means the default, a repeated parameter counts once, an empty filter
# is no filter, a number sent for a text field is read as its text. negative_data_rejection
# is off for those parameters' operations only.
LENIENT = [
    ("/api/v1/products/", "GET"),
    ("/api/v1/categories/", "GET"),
    ("/api/v1/categories/{id}/products/", "GET"),
    ("/api/v1/orders/", "GET"),
    ("/api/v1/auth/me/", "PATCH"),
    ("/api/v1/auth/register/", "POST"),
    ("/api/v1/products/", "POST"),
    ("/api/v1/products/{id}/", "PATCH"),
    ("/api/v1/categories/", "POST"),
    ("/api/v1/categories/{id}/", "PATCH"),
]
POSITIVE = {"expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]}

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


def _operations() -> list[dict]:
    """Per-operation settings: the check exceptions above, and no coverage phase for reads
    (their parameters are the lenient ones; it tripled the run's time)."""
    settings: dict[tuple[str, str], dict] = {}
    for path, method in STATE_DEPENDENT_400:
        settings.setdefault((path, method), {"checks": {}})["checks"][
            "positive_data_acceptance"
        ] = POSITIVE
    for path, method in LENIENT:
        settings.setdefault((path, method), {"checks": {}})["checks"]["negative_data_rejection"] = {
            "enabled": False
        }
    for (_, method), setting in settings.items():
        if method == "GET":
            setting["phases"] = {"coverage": {"enabled": False}}
    return [
        *(
            {"include-path": path, "include-method": method, **s}
            for (path, method), s in settings.items()
        ),
        {"include-method": "GET", "phases": {"coverage": {"enabled": False}}},
    ]


def _config(
    token: str | None, *, coverage: bool = True, exceptions: bool = True
) -> SchemathesisConfig:
    headers = {"Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},  # no state carried between runs (nor a .schemathesis/)
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            # The stateful phase follows the schema's OpenAPI links: orders created, read,
            # changed, executed and cancelled; products and categories created and deleted.
            "phases": {
                "coverage": {"enabled": coverage},
                "stateful": {"enabled": True, "max-steps": 6},
            },
            # Every check schemathesis has, on.
            # Django's development server answers a kept-alive connection ~40 ms late (delayed
            # ACK): a new connection per request is ten times faster here.
            "headers": headers,
            "request-timeout": 10,
            "operations": _operations() if exceptions else [],
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


def fuzz(
    base_url: str, token: str | None, *, coverage: bool = True, **include
) -> tuple[list[str], int]:
    """Run schemathesis over the live schema (or the operations `include` selects, as in
    `schema.include(...)`); returns (failure descriptions, operations run)."""
    schema = schemathesis.openapi.from_url(
        f"{base_url}/api/v1/schema/",
        config=_config(token, coverage=coverage, exceptions=not include),
    )
    if include:
        schema = schema.include(**include)
    failures, labels, seen = [], set(), set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.phase != PhaseName.STATEFUL_TESTING:
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


def _account(role: str):
    """An account made for this run only (the fuzzer changes its email and name)."""
    if role == "anonymous":
        return None
    if role == "customer":
        return UserFactory()
    if role == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    return StaffFactory(role=role)


@pytest.mark.parametrize("role", ROLES)
def test_api_schema_fuzz_conforms(role, live_server, _no_throttling, _fast_password_hashing):
    _seed_catalog()
    user = _account(role)
    token = str(RefreshToken.for_user(user).access_token) if user else None

    # The coverage phase (every boundary and every invalid kind of every field) is the slow
    # one: it runs for the customer, whose account reaches the most operations.
    failures, operations = fuzz(live_server.url, token, coverage=role == "customer")

    assert operations > 0
    assert not failures, f"{len(failures)} schema failures as {role}:\n\n" + "\n\n".join(failures)
    if user is not None:
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
