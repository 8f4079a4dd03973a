"""The API used as a client team uses it: through a client generated from its OpenAPI schema.

Once per session the live schema (`/api/v1/schema/`) is turned into a Python package by
openapi-python-client (offline, into a temporary folder) and imported. The tests then call the
API with that generated code only — anonymous catalog reads with filters, register, login,
refresh, orders, every documented error answer parsed into its model (execute's 402, 409s and
503 included), export, import and import jobs, account deletion, staff fields, the analytics
reports — and openapi-core validates every request sent
and every answer received against the same schema (an httpx event hook on the generated
client). A schema that lies about a body, a status, a header, a parameter or who may call an
operation fails here.
"""

import importlib
import io
import json
import subprocess
import sys
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

import httpx
import openpyxl
import pytest
from django.test import Client
from django.utils import timezone
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import plain_loads
from rest_framework.throttling import SimpleRateThrottle
from werkzeug.datastructures import Headers, ImmutableMultiDict

from accounts.tests.factories import PASSWORD, StaffFactory
from inventory.models import Category, Product
from orders.payments import TestGateway

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PACKAGE = "shop_client"
NEW_ROW = b"sku,name,category,price,cost,quantity\nN-1,Nail,Tools,0.10,0.05,100\n"


class _OpenAPIRequest:
    """openapi-core's Request protocol over an httpx.Request."""

    def __init__(self, request: httpx.Request):
        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode()}"
        self.path = url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query.decode(), keep_blank_values=True)),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )
        self.body = request.read() or None
        self.content_type = request.headers.get("content-type", "")


class _OpenAPIResponse:
    """openapi-core's Response protocol over an httpx.Response."""

    def __init__(self, response: httpx.Response):
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))
        self.content_type = response.headers.get("content-type", "")
        self.data = response.read() or None


def _is_decimal(value) -> bool:
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except InvalidOperation:
        return False


class Validator:
    """Checks every request and answer against the schema; keeps what it saw."""

    def __init__(self, spec: dict):
        # What openapi-core must be told, as any client team using it would: money is
        # `format: decimal` (a format name OpenAPI leaves open) and `text/csv` is text (by
        # default it reads any media type it does not know as bytes).
        config = Config(
            extra_format_validators={"decimal": _is_decimal},
            extra_format_unmarshallers={"decimal": Decimal},
            extra_media_type_deserializers={"text/csv": plain_loads},
        )
        self.api = OpenAPI.from_dict(spec, config=config)
        self.seen: list[tuple[str, str, int]] = []
        self._request_checked = True

    @contextmanager
    def invalid_requests(self):
        """Requests that break the schema on purpose (to get an error answer): only their
        answers are checked."""
        self._request_checked = False
        try:
            yield
        finally:
            self._request_checked = True

    def __call__(self, response: httpx.Response) -> None:
        request = _OpenAPIRequest(response.request)
        label = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        if self._request_checked:
            result = self.api.unmarshal_request(request)
            causes = [
                (e, getattr(e.__cause__, "schema_errors", e.__cause__)) for e in result.errors
            ]
            assert not result.errors, f"{label}: request: {causes!r}"
        result = self.api.unmarshal_response(request, _OpenAPIResponse(response))
        causes = [(e, getattr(e.__cause__, "schema_errors", e.__cause__)) for e in result.errors]
        assert not result.errors, f"{label}: answer: {causes!r}"
        self.seen.append((response.request.method, response.request.url.path, response.status_code))


@pytest.fixture(scope="session")
def schema() -> dict:
    """The document `GET /api/v1/schema/` serves (fetched in-process: the live server only
    accepts its own host name inside a test)."""
    response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="session")
def sdk(schema, tmp_path_factory):
    """The package openapi-python-client generates from the live schema, imported."""
    folder = tmp_path_factory.mktemp("generated")
    (folder / "schema.json").write_text(json.dumps(schema))
    (folder / "config.yaml").write_text("post_hooks: []\n")  # no formatting of the output
    subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(folder / "schema.json"),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(folder / "config.yaml"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def validator(schema) -> Validator:
    return Validator(schema)


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)


@pytest.fixture
def api(sdk, live_server, validator):
    """api.anonymous(), api.as_token(access): generated clients whose traffic is validated."""

    class Clients:
        models = importlib.import_module(f"{PACKAGE}.models")
        types = importlib.import_module(f"{PACKAGE}.types")

        @staticmethod
        def call(operation: str):
            """The generated module of an operation: call("products.products_list")."""
            return importlib.import_module(f"{PACKAGE}.api.{operation}")

        @staticmethod
        def anonymous():
            return sdk.Client(
                base_url=live_server.url, httpx_args={"event_hooks": {"response": [validator]}}
            )

        @staticmethod
        def as_token(access: str):
            return sdk.AuthenticatedClient(
                base_url=live_server.url,
                token=access,
                httpx_args={"event_hooks": {"response": [validator]}},
            )

        @classmethod
        def login(cls, email: str, password: str = PASSWORD):
            login = cls.call("auth.auth_login_create").sync_detailed
            body = cls.models.LoginRequest(email=email, password=password)
            answer = login(client=cls.anonymous(), body=body)
            assert answer.status_code == 200, answer.content
            return cls.as_token(answer.parsed.access)

    return Clients


@pytest.fixture
def shelf(db):
    tools = Category.objects.create(name="Tools")
    toys = Category.objects.create(name="Toys")
    return {
        "hammer": Product.objects.create(
            sku="T-HAM", name="Hammer", category=tools, price="12.50", cost="6.00", quantity=5
        ),
        "saw": Product.objects.create(
            sku="T-SAW", name="Saw", category=tools, price="30.00", cost="11.00", quantity=0
        ),
        "kite": Product.objects.create(
            sku="Y-KIT", name="Kite", category=toys, price="20.00", cost="8.00", quantity=9
        ),
    }


def test_generated_client_catalog_reads_anonymous(api, shelf, validator):
    m, anonymous = api.models, api.anonymous()
    products_list = api.call("products.products_list").sync_detailed

    answer = products_list(
        client=anonymous,
        category=shelf["hammer"].category_id,
        in_stock=True,
        min_price="10.00",
        max_price="100",
        ordering=m.ProductsListOrdering("-price"),
        search="ham",
        page_size=10,
    )
    assert answer.status_code == 200
    page = answer.parsed
    assert isinstance(page, m.PaginatedProductList)
    assert [p.sku for p in page.results] == ["T-HAM"]
    hammer = page.results[0]
    assert hammer.price == "12.50"
    assert isinstance(hammer.cost, api.types.Unset)  # customers never see it
    assert hammer.additional_properties == {}  # every field is declared

    answer = products_list(client=anonymous, in_stock=False)
    assert [p.sku for p in answer.parsed.results] == ["T-SAW"]

    one = api.call("products.products_retrieve").sync_detailed(shelf["kite"].pk, client=anonymous)
    assert one.parsed.name == "Kite"
    categories = api.call("categories.categories_list").sync_detailed(client=anonymous)
    assert [(c.name, c.product_count) for c in categories.parsed.results] == [
        ("Tools", 2),
        ("Toys", 1),
    ]
    in_toys = api.call("categories.categories_products_list").sync_detailed(
        shelf["kite"].category_id,
        client=anonymous,
        ordering=m.CategoriesProductsListOrdering("name"),
    )
    assert [p.sku for p in in_toys.parsed.results] == ["Y-KIT"]
    category = api.call("categories.categories_retrieve").sync_detailed(
        shelf["kite"].category_id, client=anonymous
    )
    assert category.parsed.name == "Toys"

    # Documented errors, parsed into their models.
    missing = api.call("products.products_retrieve").sync_detailed(999_999, client=anonymous)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, m.Error) and missing.parsed.detail
    past_the_end = products_list(client=anonymous, page=50)
    assert past_the_end.status_code == 404 and isinstance(past_the_end.parsed, m.Error)
    with validator.invalid_requests():
        bad = products_list(client=anonymous, min_price="1e3")
        assert bad.status_code == 400
        assert isinstance(bad.parsed, m.FieldErrors) and "min_price" in bad.parsed
        create = api.call("categories.categories_create").sync_detailed(
            client=anonymous, body=m.CategoryWriteRequest(name="New")
        )
        assert create.status_code == 401 and isinstance(create.parsed, m.Error)
        orders = api.call("orders.orders_list").sync_detailed(client=anonymous)
        assert orders.status_code == 401 and isinstance(orders.parsed, m.Error)
    assert len(validator.seen) == 11


def test_generated_client_accounts(api, validator):
    m, anonymous = api.models, api.anonymous()
    register = api.call("auth.auth_register_create").sync_detailed
    login = api.call("auth.auth_login_create").sync_detailed
    refresh = api.call("auth.auth_refresh_create").sync_detailed

    created = register(
        client=anonymous,
        body=m.RegisterRequest(email="ada@example.com", password=PASSWORD, full_name="Ada"),
    )
    assert created.status_code == 201 and isinstance(created.parsed, m.User)
    taken = register(
        client=anonymous, body=m.RegisterRequest(email="ADA@example.com", password=PASSWORD)
    )
    assert taken.status_code == 400 and "email" in taken.parsed
    weak = register(client=anonymous, body=m.RegisterRequest(email="b@example.com", password="1"))
    assert weak.status_code == 400 and "password" in weak.parsed

    wrong = login(client=anonymous, body=m.LoginRequest(email="ada@example.com", password="no"))
    assert wrong.status_code == 401 and isinstance(wrong.parsed, m.Error)
    tokens = login(
        client=anonymous, body=m.LoginRequest(email="ada@example.com", password=PASSWORD)
    )
    assert tokens.status_code == 200 and isinstance(tokens.parsed, m.TokenPair)
    rotated = refresh(client=anonymous, body=m.RefreshRequest(refresh=tokens.parsed.refresh))
    assert rotated.status_code == 200
    revoked = refresh(client=anonymous, body=m.RefreshRequest(refresh=tokens.parsed.refresh))
    assert revoked.status_code == 401 and isinstance(revoked.parsed, m.Error)
    logout = api.call("auth.auth_logout_create").sync_detailed(
        client=anonymous, body=m.RefreshRequest(refresh=rotated.parsed.refresh)
    )
    assert logout.status_code == 204

    me = api.login("ada@example.com")
    profile = api.call("auth.auth_me_retrieve").sync_detailed(client=me)
    assert profile.parsed.email == "ada@example.com" and profile.parsed.full_name == "Ada"
    patched = api.call("auth.auth_me_partial_update").sync_detailed(
        client=me, body=m.PatchedProfileUpdateRequest(full_name="Ada L.")
    )
    assert patched.parsed.full_name == "Ada L."
    customer_reads_reports = api.call("analytics.analytics_profit").sync_detailed(client=me)
    assert customer_reads_reports.status_code == 403
    assert isinstance(customer_reads_reports.parsed, m.Error)

    delete = api.call("auth.auth_me_destroy").sync_detailed
    refused = delete(client=me, body=m.AccountDeleteRequest(password="not it"))
    assert refused.status_code == 400 and isinstance(refused.parsed, m.FieldErrors)
    deleted = delete(client=me, body=m.AccountDeleteRequest(password=PASSWORD))
    assert deleted.status_code == 204
    gone = login(client=anonymous, body=m.LoginRequest(email="ada@example.com", password=PASSWORD))
    assert gone.status_code == 401
    assert len(validator.seen) == 15


def test_generated_client_orders(api, shelf, validator, django_user_model):
    m = api.models
    django_user_model.objects.create_user(email="c@example.com", password=PASSWORD)
    other = django_user_model.objects.create_user(email="o@example.com", password=PASSWORD)
    me = api.login("c@example.com")
    create = api.call("orders.orders_create").sync_detailed
    execute = api.call("orders.orders_execute_create").sync_detailed

    def order_body(product, quantity=1):
        item = m.OrderItemInRequest(product=product.pk, quantity=quantity)
        return m.OrderWriteRequest(shipping_country=m.ShippingCountryEnum("FR"), items=[item])

    created = create(client=me, body=order_body(shelf["hammer"], 2), idempotency_key="k-1")
    assert created.status_code == 201 and isinstance(created.parsed, m.Order)
    order = created.parsed
    assert order.status == m.StatusEnum.PENDING and order.total == "25.00"
    assert order.executed_at is None
    replayed = create(client=me, body=order_body(shelf["hammer"], 2), idempotency_key="k-1")
    assert replayed.status_code == 201 and replayed.parsed.id == order.id
    assert replayed.headers["Idempotent-Replayed"] == "true"
    reused = create(client=me, body=order_body(shelf["kite"]), idempotency_key="k-1")
    assert reused.status_code == 409 and isinstance(reused.parsed, m.IdempotencyKeyReused)
    too_many = create(client=me, body=order_body(shelf["hammer"], 6))
    assert too_many.status_code == 400 and "items" in too_many.parsed

    executed = execute(order.id, client=me, body=m.OrderExecuteRequest(), idempotency_key="x-1")
    assert executed.status_code == 200
    assert executed.parsed.status == m.StatusEnum.EXECUTED and executed.parsed.executed_at
    again = execute(order.id, client=me, body=m.OrderExecuteRequest())
    assert again.status_code == 409 and isinstance(again.parsed, m.OrderNotPending)
    read = api.call("orders.orders_retrieve").sync_detailed(order.id, client=me)
    assert read.parsed.items[0].unit_price == "12.50"
    listed = api.call("orders.orders_list").sync_detailed(
        client=me, status=m.OrdersListStatus("executed")
    )
    assert [o.id for o in listed.parsed.results] == [order.id]

    short = create(client=me, body=order_body(shelf["kite"], 3)).parsed
    Product.objects.filter(pk=shelf["kite"].pk).update(quantity=1)
    stock = execute(short.id, client=me, body=m.OrderExecuteRequest())
    assert stock.status_code == 409 and isinstance(stock.parsed, m.InsufficientStock)
    assert (stock.parsed.items[0].requested, stock.parsed.items[0].available) == (3, 1)
    patched = api.call("orders.orders_partial_update").sync_detailed(
        short.id,
        client=me,
        body=m.PatchedOrderWriteRequest(
            items=[m.OrderItemInRequest(product=shelf["kite"].pk, quantity=1)]
        ),
    )
    assert patched.status_code == 200 and patched.parsed.total == "20.00"
    declined = execute(short.id, client=me, body=m.OrderExecuteRequest(payment_token="decline-1"))
    assert declined.status_code == 402 and isinstance(declined.parsed, m.PaymentDeclined)
    TestGateway.faults_set(charge="error_before")  # the gateway fails: 503, still pending
    try:
        unavailable = execute(short.id, client=me, body=m.OrderExecuteRequest())
    finally:
        TestGateway.faults_clear()
    assert unavailable.status_code == 503 and isinstance(unavailable.parsed, m.PaymentUnavailable)
    assert unavailable.parsed.code.value == "payment_unavailable"
    cancelled = api.call("orders.orders_cancel_create").sync_detailed(short.id, client=me)
    assert cancelled.parsed.status == m.StatusEnum.CANCELLED
    not_pending = api.call("orders.orders_cancel_create").sync_detailed(short.id, client=me)
    assert not_pending.status_code == 409 and isinstance(not_pending.parsed, m.OrderNotPending)

    archived = create(client=me, body=order_body(shelf["hammer"])).parsed
    Product.objects.filter(pk=shelf["hammer"].pk).update(is_active=False)
    unavailable = execute(archived.id, client=me, body=m.OrderExecuteRequest())
    assert unavailable.status_code == 409
    assert isinstance(unavailable.parsed, m.ProductUnavailable)

    theirs = api.login(other.email)
    hidden = api.call("orders.orders_retrieve").sync_detailed(order.id, client=theirs)
    assert hidden.status_code == 404 and isinstance(hidden.parsed, m.Error)
    with validator.invalid_requests():
        long_key = create(client=me, body=order_body(shelf["hammer"]), idempotency_key="k" * 256)
        assert long_key.status_code == 400 and isinstance(long_key.parsed, m.FieldErrors)
        empty = create(
            client=me,
            body=m.OrderWriteRequest(shipping_country=m.ShippingCountryEnum("FR"), items=[]),
        )
        assert empty.status_code == 400 and "items" in empty.parsed
    assert len(validator.seen) == 22


def test_generated_client_staff(api, shelf, validator, django_user_model, settings):
    m = api.models
    manager = api.login(StaffFactory(role="inventory").email)
    analyst = api.login(StaffFactory(role="analytics").email)
    customer = django_user_model.objects.create_user(email="c@example.com", password=PASSWORD)
    buyer = api.login(customer.email)

    listed = api.call("products.products_list").sync_detailed(client=manager)
    assert {p.sku: p.cost for p in listed.parsed.results} == {
        "T-HAM": "6.00",
        "T-SAW": "11.00",
        "Y-KIT": "8.00",
    }
    created = api.call("products.products_create").sync_detailed(
        client=manager,
        body=m.ProductWriteRequest(
            sku="Y-BAL",
            name="Ball",
            category=shelf["kite"].category_id,
            price="3.50",
            cost="1.20",
            quantity=4,
        ),
    )
    assert created.status_code == 201 and isinstance(created.parsed, m.StaffProduct)
    assert created.parsed.cost == "1.20"
    patched = api.call("products.products_partial_update").sync_detailed(
        created.parsed.id, client=manager, body=m.PatchedProductWriteRequest(price="3.90")
    )
    assert patched.parsed.price == "3.90"
    refused = api.call("products.products_create").sync_detailed(
        client=buyer,
        body=m.ProductWriteRequest(
            sku="Z", name="Z", category=shelf["kite"].category_id, price="1.00"
        ),
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, m.Error)
    duplicate = api.call("categories.categories_create").sync_detailed(
        client=manager, body=m.CategoryWriteRequest(name="toys")
    )
    assert duplicate.status_code == 400 and "name" in duplicate.parsed
    renamed = api.call("categories.categories_partial_update").sync_detailed(
        shelf["saw"].category_id, client=manager, body=m.PatchedCategoryWriteRequest(name="Tools+")
    )
    assert renamed.parsed.name == "Tools+"

    # A sale, then what it forbids and what it reports.
    body = m.OrderWriteRequest(
        shipping_country=m.ShippingCountryEnum("DE"),
        items=[m.OrderItemInRequest(product=shelf["kite"].pk, quantity=2)],
    )
    order = api.call("orders.orders_create").sync_detailed(client=buyer, body=body).parsed
    sold = api.call("orders.orders_execute_create").sync_detailed(
        order.id, client=buyer, body=m.OrderExecuteRequest()
    )
    assert sold.status_code == 200
    in_use = api.call("products.products_destroy").sync_detailed(shelf["kite"].pk, client=manager)
    assert in_use.status_code == 409 and isinstance(in_use.parsed, m.ProductHasSales)
    category_in_use = api.call("categories.categories_destroy").sync_detailed(
        shelf["kite"].category_id, client=manager
    )
    assert category_in_use.status_code == 409
    assert isinstance(category_in_use.parsed, m.CategoryHasSales)
    removed = api.call("products.products_destroy").sync_detailed(created.parsed.id, client=manager)
    assert removed.status_code == 204

    export = api.call("products.products_export").sync_detailed
    csv_answer = export(client=manager, file_format=m.ProductsExportFileFormat("csv"))
    assert csv_answer.status_code == 200
    assert csv_answer.parsed.splitlines()[0] == "\ufeffsku,name,category,price,cost,quantity"
    xlsx_answer = export(client=manager, file_format=m.ProductsExportFileFormat("xlsx"))
    assert xlsx_answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_answer.content), read_only=True).active
    assert next(sheet.iter_rows(values_only=True))[0] == "sku"
    not_staff = export(client=buyer)
    assert not_staff.status_code == 403 and isinstance(not_staff.parsed, m.Error)
    with validator.invalid_requests():
        # openapi-core reads every multipart part as text, so the generated client's
        # `dry_run=True` (sent as the text "True", which the server reads as true) would fail
        # its `boolean`: the answer is still checked.
        imported = api.call("products.products_import").sync_detailed(
            client=manager,
            body=m.ProductImportRequest(
                file=api.types.File(payload=io.BytesIO(NEW_ROW), file_name="nails.csv"),
                dry_run=True,
            ),
        )
    assert imported.status_code == 200
    assert (imported.parsed.created, imported.parsed.dry_run) == (1, True)
    settings.IMPORT_SYNC_MAX_BYTES = 10  # larger files become jobs (inline here: no broker)
    with validator.invalid_requests():  # multipart, as above
        queued = api.call("products.products_import").sync_detailed(
            client=manager,
            body=m.ProductImportRequest(
                file=api.types.File(payload=io.BytesIO(NEW_ROW), file_name="nails.csv")
            ),
        )
    assert queued.status_code == 202 and isinstance(queued.parsed, m.ImportJobQueued)
    job = api.call("products.products_import_job").sync_detailed(queued.parsed.id, client=manager)
    assert job.status_code == 200 and isinstance(job.parsed, m.ImportJob)
    assert (job.parsed.status.value, job.parsed.created, job.parsed.errors) == ("succeeded", 1, [])
    no_job = api.call("products.products_import_job").sync_detailed(999_999, client=manager)
    assert no_job.status_code == 404 and isinstance(no_job.parsed, m.Error)

    today = timezone.localdate()
    profit = api.call("analytics.analytics_profit").sync_detailed(
        client=analyst, date_from=today.replace(day=1), date_to=today.replace(year=today.year + 1)
    )
    assert (profit.parsed.revenue, profit.parsed.profit) == ("40.00", "24.00")
    products = api.call("analytics.analytics_product_sales").sync_detailed(client=analyst, limit=5)
    assert [(r.product_name, r.units_sold) for r in products.parsed.results] == [("Kite", 2)]
    categories = api.call("analytics.analytics_category_sales").sync_detailed(client=analyst)
    assert categories.parsed.results[0].products[0].percent_of_category == "100.00"
    backwards = api.call("analytics.analytics_profit").sync_detailed(
        client=analyst, date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)
    )
    assert backwards.status_code == 400 and "date_to" in backwards.parsed
    reports_forbidden = api.call("analytics.analytics_category_sales").sync_detailed(client=manager)
    assert reports_forbidden.status_code == 403 and isinstance(reports_forbidden.parsed, m.Error)
    assert len(validator.seen) == 26
