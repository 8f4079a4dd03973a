import pytest
from django.db import IntegrityError, transaction

from inventory.models import Category, Product, StockMovement
from inventory.services import product_create
from inventory.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/categories/"
WRITE_DENIED = {"anonymous": 401, "customer": 403, "order_manager": 403, "analyst": 403}
WRITERS = ["inventory_manager", "superuser"]


def detail(category):
    return f"{URL}{category.pk}/"


@pytest.mark.parametrize(
    ("role", "count"),
    [("anonymous", 1), ("customer", 1), ("analyst", 2), ("inventory_manager", 2)],
)
def test_category_list_counts_products_the_caller_sees(role, count, user_in_role, client_for):
    books = CategoryFactory(name="Books")
    ProductFactory(category=books)
    ProductFactory(category=books, is_active=False)
    empty = CategoryFactory(name="Atlases")
    response = client_for(user_in_role(role)).get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {"id": empty.pk, "name": "Atlases", "product_count": 0},
            {"id": books.pk, "name": "Books", "product_count": count},
        ],
    }
    assert client_for(user_in_role(role)).get(detail(books)).json()["product_count"] == count


@pytest.mark.parametrize("page_size", [1, 10, 30])
def test_category_list_query_count_constant(
    api_client, settings, django_assert_num_queries, page_size
):
    settings.CATALOG_COUNT_CACHE_SECONDS = 0
    for i in range(30):
        ProductFactory.create_batch(2, category=CategoryFactory(name=f"C{i:02d}"))
    with django_assert_num_queries(3):  # COUNT, the page, the page's product counts
        body = api_client.get(URL, {"page_size": page_size}).json()
    assert len(body["results"]) == page_size
    assert {row["product_count"] for row in body["results"]} == {2}


def test_category_product_counts_cached_until_catalog_changes(
    api_client,
    client_for,
    inventory_manager,
    category,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    product = ProductFactory(category=category)
    assert api_client.get(URL).json()["results"][0]["product_count"] == 1
    with django_assert_num_queries(2):  # the product counts come from the cache
        assert api_client.get(URL).json()["results"][0]["product_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(inventory_manager).patch(
            f"/api/v1/products/{product.pk}/", {"is_active": False}
        )
    assert response.status_code == 200
    assert api_client.get(URL).json()["results"][0]["product_count"] == 0


@pytest.mark.parametrize("role", WRITERS)
def test_category_create_rename_delete(role, user_in_role, client_for):
    client = client_for(user_in_role(role))
    response = client.post(URL, {"name": "  Garden "})
    assert response.status_code == 201, response.content
    category = Category.objects.get()
    assert response.json() == {"id": category.pk, "name": "Garden", "product_count": 0}
    ProductFactory(category=category)
    response = client.patch(detail(category), {"name": "Garden tools"})
    assert response.status_code == 200
    assert response.json() == {"id": category.pk, "name": "Garden tools", "product_count": 1}
    category.refresh_from_db()
    assert category.name == "Garden tools"


@pytest.mark.parametrize("role", list(WRITE_DENIED))
def test_category_write_denied(role, user_in_role, client_for, category):
    client = client_for(user_in_role(role))
    expected = WRITE_DENIED[role]
    assert client.post(URL, {"name": "Garden"}).status_code == expected
    assert client.patch(detail(category), {"name": "Other"}).status_code == expected
    assert client.delete(detail(category)).status_code == expected
    assert list(Category.objects.values_list("name", flat=True)) == ["Books"]


@pytest.mark.parametrize("name", ["Books", "BOOKS", "books", " books "])
def test_category_create_duplicate_name_any_case_400(client_for, inventory_manager, category, name):
    response = client_for(inventory_manager).post(URL, {"name": name})
    assert response.status_code == 400
    assert "name" in response.json()
    assert Category.objects.count() == 1


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "x" * 101}, {"name": None}])
def test_category_create_invalid_400(client_for, inventory_manager, payload):
    response = client_for(inventory_manager).post(URL, payload)
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Category.objects.exists()


def test_category_rename_to_taken_name_400_unchanged(client_for, inventory_manager, category):
    toys = CategoryFactory(name="Toys")
    response = client_for(inventory_manager).patch(detail(toys), {"name": "bOOKs"})
    assert response.status_code == 400
    assert "name" in response.json()
    toys.refresh_from_db()
    assert toys.name == "Toys"
    # Changing only the case of its own name is fine.
    response = client_for(inventory_manager).patch(detail(toys), {"name": "TOYS"})
    assert response.status_code == 200
    assert response.json()["name"] == "TOYS"


def test_category_name_any_case_refused_by_database(category):
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(name="BOOKS")
    toys = Category.objects.create(name="Toys")
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(pk=toys.pk).update(name="books")
    assert sorted(Category.objects.values_list("name", flat=True)) == ["Books", "Toys"]


def test_category_delete_deletes_products_and_movements(client_for, inventory_manager, category):
    product_create(
        sku="A", name="A", category=category, price=1, quantity=3, actor=inventory_manager
    )
    other = ProductFactory()
    response = client_for(inventory_manager).delete(detail(category))
    assert response.status_code == 204
    assert not Category.objects.filter(pk=category.pk).exists()
    assert list(Product.objects.all()) == [other]
    assert not StockMovement.objects.exists()


def test_category_delete_with_ordered_product_409_nothing_deleted(
    client_for, inventory_manager, category, sold
):
    ordered, unordered = ProductFactory(category=category), ProductFactory(category=category)
    sold(ordered)
    response = client_for(inventory_manager).delete(detail(category))
    assert response.status_code == 409
    assert response.json()["code"] == "category_has_sales"
    assert set(Product.objects.filter(category=category)) == {ordered, unordered}


def test_category_unknown_404(client_for, inventory_manager, api_client):
    assert api_client.get(f"{URL}999/").status_code == 404
    assert api_client.get(f"{URL}999/products/").status_code == 404
    assert client_for(inventory_manager).patch(f"{URL}999/", {"name": "X"}).status_code == 404
    assert client_for(inventory_manager).delete(f"{URL}999/").status_code == 404


@pytest.mark.parametrize("role", ["anonymous", "customer", "inventory_manager"])
def test_category_products_paginated_and_filtered(role, user_in_role, client_for, category):
    mine = [ProductFactory(category=category, price=p) for p in ("3.00", "1.00", "2.00")]
    archived = ProductFactory(category=category, is_active=False)
    ProductFactory()  # another category
    user = user_in_role(role)
    client = client_for(user)
    url = f"{URL}{category.pk}/products/"
    body = client.get(url, {"ordering": "price", "page_size": 2}).json()
    expected = [mine[1], mine[2], mine[0]] + ([archived] if user and user.is_staff else [])
    assert body["count"] == len(expected)
    assert [r["id"] for r in body["results"]] == [p.pk for p in expected[:2]]
    assert ("cost" in body["results"][0]) == bool(user and user.is_staff)
    assert "page=2" in body["next"]
    cheap = client.get(url, {"max_price": "1.50"}).json()["results"]
    assert [r["id"] for r in cheap] == [mine[1].pk]
    assert client.get(url, {"min_price": "x"}).status_code == 400
