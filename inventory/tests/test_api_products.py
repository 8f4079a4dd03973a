from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from inventory.models import Product, StockMovement
from inventory.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
PUBLIC_KEYS = {"id", "sku", "name", "category", "category_name", "price", "quantity", "is_active"}
READERS = ["anonymous", "customer", "order_manager", "analyst", "inventory_manager", "superuser"]
WRITE_DENIED = {"anonymous": 401, "customer": 403, "order_manager": 403, "analyst": 403}
WRITERS = ["inventory_manager", "superuser"]


def detail(product):
    return f"{URL}{product.pk}/"


def valid_payload(category, /, **overrides):
    return {
        "sku": "NEW-1",
        "name": "New product",
        "category": category.pk,
        "price": "12.50",
        "cost": "4.00",
        **overrides,
    }


# --- Reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_product_list_readable_by_everyone_cost_only_for_staff(
    role, user_in_role, client_for, product
):
    user = user_in_role(role)
    response = client_for(user).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    (row,) = body["results"]
    staff = user is not None and user.is_staff
    assert set(row) == (PUBLIC_KEYS | {"cost"} if staff else PUBLIC_KEYS)
    assert row == {
        "id": product.pk,
        "sku": "BK-1",
        "name": "Atlas",
        "category": product.category_id,
        "category_name": "Books",
        "price": "19.90",
        "quantity": 10,
        "is_active": True,
        **({"cost": "7.25"} if staff else {}),
    }


@pytest.mark.parametrize("role", READERS)
def test_product_detail_matches_list_row(role, user_in_role, client_for, product):
    client = client_for(user_in_role(role))
    response = client.get(detail(product))
    assert response.status_code == 200
    assert response.json() == client.get(URL).json()["results"][0]


@pytest.mark.parametrize("role", ["anonymous", "customer"])
def test_product_archived_hidden_from_customers(role, user_in_role, client_for, product):
    archived = ProductFactory(is_active=False)
    client = client_for(user_in_role(role))
    assert [r["id"] for r in client.get(URL).json()["results"]] == [product.pk]
    assert client.get(detail(archived)).status_code == 404
    url = f"/api/v1/categories/{archived.category_id}/products/"
    assert client.get(url).json()["count"] == 0


@pytest.mark.parametrize("role", ["order_manager", "analyst", "inventory_manager", "superuser"])
def test_product_archived_visible_to_staff(role, user_in_role, client_for, product):
    archived = ProductFactory(is_active=False)
    client = client_for(user_in_role(role))
    assert {r["id"] for r in client.get(URL).json()["results"]} == {product.pk, archived.pk}
    assert client.get(detail(archived)).json()["is_active"] is False
    only_archived = client.get(URL, {"is_active": "false"}).json()["results"]
    assert [r["id"] for r in only_archived] == [archived.pk]


def test_product_detail_unknown_or_malformed_id_404(api_client):
    assert api_client.get(f"{URL}999999/").status_code == 404
    assert api_client.get(f"{URL}abc/").status_code == 404
    assert api_client.get(f"{URL}99999999999999999999999/").status_code == 404


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def shelf(db):
    books, toys = CategoryFactory(name="Books"), CategoryFactory(name="Toys")
    return {
        "atlas": ProductFactory(sku="BK-ATL", name="Atlas", category=books, price="30", quantity=5),
        "novel": ProductFactory(sku="BK-NOV", name="Novel", category=books, price="10", quantity=0),
        "kite": ProductFactory(sku="TY-KIT", name="Kite", category=toys, price="20", quantity=7),
        "yoyo": ProductFactory(sku="TY-YOY", name="Yo-yo", category=toys, price="5", quantity=1),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["atlas", "kite", "novel", "yoyo"]),
        ({"category": "books"}, ["atlas", "novel"]),
        ({"search": "kit"}, ["kite"]),
        ({"search": "bk-"}, ["atlas", "novel"]),
        ({"min_price": "10"}, ["atlas", "kite", "novel"]),
        ({"max_price": "10"}, ["novel", "yoyo"]),
        ({"min_price": "6", "max_price": "25"}, ["kite", "novel"]),
        ({"in_stock": "true"}, ["atlas", "kite", "yoyo"]),
        ({"in_stock": "false"}, ["novel"]),
        ({"ordering": "price"}, ["yoyo", "novel", "kite", "atlas"]),
        ({"ordering": "-price"}, ["atlas", "kite", "novel", "yoyo"]),
        ({"ordering": "quantity"}, ["novel", "yoyo", "atlas", "kite"]),
        ({"ordering": "-name"}, ["yoyo", "novel", "kite", "atlas"]),
        ({"category": "toys", "in_stock": "true", "ordering": "-price"}, ["kite", "yoyo"]),
    ],
)
def test_product_list_filters_search_ordering(api_client, shelf, params, expected):
    if "category" in params:
        params = {**params, "category": shelf[expected[0]].category_id}
    assert ids(api_client.get(URL, params)) == [shelf[name].pk for name in expected]


@pytest.mark.parametrize(
    "params",
    [
        {"min_price": "abc"},
        {"in_stock": "maybe"},
        {"category": "x"},
        {"category": "0"},
        {"category": "1.5"},
        {"category": str(2**63)},  # past any id: SQLite could not even bind it
        {"min_price": "1e400"},
        {"min_price": " 5"},
        {"max_price": "5.001"},
        {"ordering": "cost"},  # not one of name, price, quantity
        {"ordering": "price,name"},
        {"ordering": ""},
    ],
)
def test_product_list_bad_filter_400(api_client, shelf, params):
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)  # the error names the parameter


def test_product_list_repeated_filters_read_fresh_rows(api_client, shelf, settings):
    # The filtered queryset is reused for the same parameters: its rows must not be.
    settings.CATALOG_COUNT_CACHE_SECONDS = 0
    params = {"in_stock": "true", "max_price": "25", "ordering": "-price"}
    assert ids(api_client.get(URL, params)) == [shelf["kite"].pk, shelf["yoyo"].pk]
    Product.objects.filter(pk=shelf["kite"].pk).update(quantity=0)
    Product.objects.filter(pk=shelf["novel"].pk).update(quantity=2)
    body = api_client.get(URL, params).json()
    assert [row["id"] for row in body["results"]] == [shelf["novel"].pk, shelf["yoyo"].pk]
    assert body["count"] == 2
    assert api_client.get(URL, {**params, "in_stock": "maybe"}).status_code == 400
    assert api_client.get(URL, {**params, "in_stock": "maybe"}).status_code == 400


def test_product_list_ties_ordered_by_id_across_pages(api_client, category):
    products = [ProductFactory(category=category, price="9.99") for _ in range(5)]
    first = ids(api_client.get(URL, {"ordering": "price", "page_size": 3}))
    second = ids(api_client.get(URL, {"ordering": "price", "page_size": 3, "page": 2}))
    assert first + second == [p.pk for p in products]
    backwards = ids(api_client.get(URL, {"ordering": "-price", "page_size": 5}))
    assert backwards == [p.pk for p in reversed(products)]


def test_product_list_page_size_capped_at_100(api_client, category):
    Product.objects.bulk_create(
        Product(sku=f"S{i}", name=f"P{i:03d}", category=category, price=1) for i in range(105)
    )
    body = api_client.get(URL, {"page_size": 500}).json()
    assert body["count"] == 105
    assert len(body["results"]) == 100
    assert "page=2" in body["next"]
    assert len(api_client.get(URL).json()["results"]) == 20  # the default
    assert len(api_client.get(URL, {"page_size": 3, "page": 2}).json()["results"]) == 3
    assert api_client.get(URL, {"page": 99}).status_code == 404


@pytest.mark.parametrize("page_size", [1, 10, 100])
def test_product_list_query_count_constant(
    page_size, api_client, client_for, inventory_manager, settings, django_assert_num_queries
):
    settings.CATALOG_COUNT_CACHE_SECONDS = 0
    for i in range(4):
        ProductFactory.create_batch(30, category=CategoryFactory(name=f"C{i}"))
    with django_assert_num_queries(2):  # COUNT, then the page with its category names
        assert len(api_client.get(URL, {"page_size": page_size}).json()["results"]) == page_size
    staff = client_for(inventory_manager)
    with django_assert_num_queries(3):  # + the token's user
        assert len(staff.get(URL, {"page_size": page_size}).json()["results"]) == page_size
    url = f"/api/v1/categories/{Product.objects.first().category_id}/products/"
    with django_assert_num_queries(3):  # + the category exists
        assert api_client.get(url, {"page_size": page_size}).json()["count"] == 30


def test_product_list_count_cached_until_catalog_changes(
    api_client,
    client_for,
    inventory_manager,
    category,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    ProductFactory.create_batch(3, category=category)
    assert api_client.get(URL).json()["count"] == 3
    with django_assert_num_queries(1):  # the page only: the count is shared
        assert api_client.get(URL, {"page_size": 2}).json()["count"] == 3
    with django_assert_num_queries(2):  # other filters, other count
        assert api_client.get(URL, {"in_stock": "true"}).json()["count"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        created = client_for(inventory_manager).post(URL, valid_payload(category))
    assert created.status_code == 201
    assert api_client.get(URL).json()["count"] == 4  # a catalog write forgets counts


def test_product_list_memoized_queries_keep_rows_per_ordering_filters_and_caller(
    api_client, client_for, inventory_manager, shelf, settings
):
    """Each list's SELECT is compiled once per worker: lists that differ by ordering, filters,
    category or caller (staff or not) still get their own rows, the second time too."""
    settings.CATALOG_COUNT_CACHE_SECONDS = 0
    toys = shelf["kite"].category
    shelf["old"] = ProductFactory(
        sku="TY-OLD", name="Old kite", category=toys, price="12.5", quantity=3, is_active=False
    )
    staff = client_for(inventory_manager)
    toys_url = f"/api/v1/categories/{toys.pk}/products/"
    books_url = f"/api/v1/categories/{shelf['atlas'].category_id}/products/"
    lists = [
        (api_client, URL, {"ordering": "price"}, ["yoyo", "novel", "kite", "atlas"]),
        (api_client, URL, {"ordering": "-price"}, ["atlas", "kite", "novel", "yoyo"]),
        (api_client, URL, {"ordering": "-price", "in_stock": "true"}, ["atlas", "kite", "yoyo"]),
        (api_client, toys_url, {"ordering": "-price"}, ["kite", "yoyo"]),
        (api_client, books_url, {"ordering": "-price"}, ["atlas", "novel"]),
        (staff, toys_url, {"ordering": "-price"}, ["kite", "old", "yoyo"]),
        (staff, URL, {"ordering": "price"}, ["yoyo", "novel", "old", "kite", "atlas"]),
        (api_client, URL, {"ordering": "price"}, ["yoyo", "novel", "kite", "atlas"]),
    ]
    for _ in range(2):  # the second round reads through the memoized queries
        for client, url, params, names in lists:
            body = client.get(url, params).json()
            assert [row["id"] for row in body["results"]] == [shelf[n].pk for n in names]
            assert body["count"] == len(names)
            for row in body["results"]:
                # The same row as the detail's (read through the ORM): keys, money, booleans.
                assert row == client.get(f"{URL}{row['id']}/").json()
                assert ("cost" in row) is (client is staff)
                assert row["is_active"] is (row["id"] != shelf["old"].pk)
    prices = {row["id"]: row["price"] for row in staff.get(URL).json()["results"]}
    assert prices[shelf["old"].pk] == "12.50"
    assert prices[shelf["atlas"].pk] == "30.00"

    # Rows are read fresh: archiving hides the product from the memoized customer list.
    Product.objects.filter(pk=shelf["kite"].pk).update(is_active=False)
    assert ids(api_client.get(toys_url, {"ordering": "-price"})) == [shelf["yoyo"].pk]
    staff_ids = ids(staff.get(toys_url, {"ordering": "-price"}))
    assert staff_ids == [shelf["kite"].pk, shelf["old"].pk, shelf["yoyo"].pk]


def test_product_list_memoized_queries_empty_and_out_of_range_pages(
    api_client, shelf, settings, django_assert_num_queries
):
    settings.CATALOG_COUNT_CACHE_SECONDS = 0
    for _ in range(2):
        with django_assert_num_queries(1):  # the COUNT: an empty page reads nothing
            body = api_client.get(URL, {"min_price": "1000", "ordering": "-price"}).json()
        assert body == {"count": 0, "next": None, "previous": None, "results": []}
        assert api_client.get(URL, {"page_size": 2, "page": 3}).status_code == 404
        body = api_client.get(URL, {"page_size": 2, "page": 2}).json()
        assert [row["id"] for row in body["results"]] == [shelf["novel"].pk, shelf["yoyo"].pk]
        assert body["next"] is None
        assert body["previous"] == "http://testserver/api/v1/products/?page_size=2"


# --- Writing --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(WRITE_DENIED))
def test_product_write_denied(role, user_in_role, client_for, product, category):
    client = client_for(user_in_role(role))
    expected = WRITE_DENIED[role]
    assert client.post(URL, valid_payload(category)).status_code == expected
    assert client.patch(detail(product), {"price": "1.00"}).status_code == expected
    assert client.delete(detail(product)).status_code == expected
    product.refresh_from_db()
    assert (Product.objects.count(), product.price) == (1, Decimal("19.90"))


@pytest.mark.parametrize("role", WRITERS)
def test_product_create_with_initial_stock_records_movement(
    role, user_in_role, client_for, category
):
    user = user_in_role(role)
    response = client_for(user).post(URL, valid_payload(category, quantity=7))
    assert response.status_code == 201, response.content
    product = Product.objects.get(sku="NEW-1")
    assert response.json() == {
        "id": product.pk,
        "sku": "NEW-1",
        "name": "New product",
        "category": category.pk,
        "category_name": "Books",
        "price": "12.50",
        "cost": "4.00",
        "quantity": 7,
        "is_active": True,
    }
    movement = StockMovement.objects.get(product=product)
    assert (movement.change, movement.quantity_after) == (7, 7)
    assert (movement.reason, movement.actor) == ("manual", user)


def test_product_create_without_quantity_no_movement(client_for, inventory_manager, category):
    response = client_for(inventory_manager).post(URL, valid_payload(category, cost=None))
    assert response.status_code == 400  # cost may be left out, not null
    payload = valid_payload(category)
    del payload["cost"]
    response = client_for(inventory_manager).post(URL, payload)
    assert response.status_code == 201, response.content
    assert response.json()["quantity"] == 0
    assert response.json()["cost"] == "0.00"
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sku": "BK-1"}, "sku"),
        ({"name": "Atlas"}, "name"),
        ({"price": "0"}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"price": "abc"}, "price"),
        ({"cost": "-0.01"}, "cost"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"category": 999999}, "category"),
        ({"sku": ""}, "sku"),
        ({"name": "x" * 201}, "name"),
        ({"price": None}, "price"),
    ],
)
def test_product_create_invalid_400_nothing_written(
    client_for, inventory_manager, product, overrides, field
):
    response = client_for(inventory_manager).post(URL, valid_payload(product.category, **overrides))
    assert response.status_code == 400
    assert field in response.json()
    assert Product.objects.count() == 1
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"sku": "BK-1"}, {"sku": ["product with this SKU already exists."]}),
        ({"name": "Atlas"}, {"name": ["product with this name already exists."]}),
    ],
)
def test_product_create_taken_sku_or_name_400_nothing_written(
    client_for, inventory_manager, product, overrides, errors
):
    response = client_for(inventory_manager).post(URL, valid_payload(product.category, **overrides))
    assert response.status_code == 400
    assert response.json() == errors
    assert list(Product.objects.all()) == [product]


@pytest.mark.parametrize("missing", ["sku", "name", "category", "price"])
def test_product_create_missing_field_400(client_for, inventory_manager, category, missing):
    payload = valid_payload(category)
    del payload[missing]
    response = client_for(inventory_manager).post(URL, payload)
    assert response.status_code == 400
    assert missing in response.json()
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"sku": "BK-1"},
        {"name": "Atlas"},
        {"price": Decimal("0")},
        {"price": Decimal("-5")},
        {"cost": Decimal("-1")},
        {"quantity": -1},
    ],
)
def test_product_rules_refused_by_database(product, fields):
    """Each rule the API answers with a 400 is also a database constraint."""
    values = {"sku": "OTHER", "name": "Other", "category": product.category, "price": 1}
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(**{**values, **fields})  # no validation: straight to the database
    other = Product.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=other.pk).update(**fields)
    assert Product.objects.filter(pk=other.pk, **values).exists()


def test_product_patch_fields_and_quantity_records_movement(client_for, inventory_manager, product):
    response = client_for(inventory_manager).patch(
        detail(product), {"price": "24.00", "quantity": 4, "name": "Atlas II"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["price"] == "24.00"
    assert response.json()["quantity"] == 4
    product.refresh_from_db()
    assert (product.price, product.quantity, product.name) == (Decimal("24.00"), 4, "Atlas II")
    movement = StockMovement.objects.get(product=product)
    assert (movement.change, movement.quantity_after) == (-6, 4)
    assert (movement.reason, movement.actor) == ("manual", inventory_manager)


def test_product_patch_same_quantity_no_movement(client_for, inventory_manager, product):
    response = client_for(inventory_manager).patch(detail(product), {"quantity": 10})
    assert response.status_code == 200
    assert not StockMovement.objects.exists()


def test_product_patch_archive_hides_from_customers(client_for, inventory_manager, product):
    response = client_for(inventory_manager).patch(detail(product), {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client_for(None).get(detail(product)).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {"price": "0"},
        {"cost": "-1"},
        {"quantity": -3},
        {"sku": "OTHER-SKU"},
        {"name": "Other"},
        {"category": 999999},
        {"price": "30.00", "quantity": -1},
    ],
)
def test_product_patch_invalid_400_nothing_changed(client_for, inventory_manager, product, payload):
    ProductFactory(sku="OTHER-SKU", name="Other")
    response = client_for(inventory_manager).patch(detail(product), payload)
    assert response.status_code == 400
    product_before = {"sku": "BK-1", "name": "Atlas", "price": Decimal("19.90"), "quantity": 10}
    product.refresh_from_db()
    assert {k: getattr(product, k) for k in product_before} == product_before
    assert not StockMovement.objects.exists()


def test_product_put_not_allowed(client_for, inventory_manager, product):
    response = client_for(inventory_manager).put(detail(product), valid_payload(product.category))
    assert response.status_code == 405


@pytest.mark.parametrize("role", WRITERS)
def test_product_delete_204_with_its_movements(role, user_in_role, client_for, category):
    client = client_for(user_in_role(role))
    created = client.post(URL, valid_payload(category, quantity=3)).json()
    response = client.delete(f"{URL}{created['id']}/")
    assert response.status_code == 204
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


def test_product_delete_ordered_409_nothing_deleted(client_for, inventory_manager, product, sold):
    sold(product)
    response = client_for(inventory_manager).delete(detail(product))
    assert response.status_code == 409
    assert response.json()["code"] == "product_has_sales"
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_rows_match_documented_serializers(client_for, inventory_manager, product):
    """The list is built from `.values()` for speed: it must keep the schema's fields."""
    from inventory.api.serializers import ProductSerializer, StaffProductSerializer

    public = client_for(None).get(detail(product)).json()
    staff = client_for(inventory_manager).get(detail(product)).json()
    assert list(public) == list(ProductSerializer().fields)
    assert list(staff) == list(StaffProductSerializer().fields)
    assert staff == StaffProductSerializer(product).data


def test_product_unknown_category_refused_by_database(category):
    from django.db import connection

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(sku="X", name="X", category_id=category.pk + 1000, price=1)
        connection.check_constraints(table_names=["inventory_product"])  # FKs are deferred
    assert not Product.objects.exists()
