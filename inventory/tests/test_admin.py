import pytest
from django.test import Client

from inventory.models import Category, Product, ProductChange, StockMovement
from inventory.services import product_set_quantity
from inventory.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/",
    "/admin/inventory/",
    "/admin/inventory/category/",
    "/admin/inventory/category/add/",
    "/admin/inventory/product/",
    "/admin/inventory/product/add/",
    "/admin/inventory/product/?stock=out",
    "/admin/inventory/product/?stock=low",
    "/admin/inventory/product/?stock=in&is_active__exact=1&q=atl",
    "/admin/inventory/stockmovement/",
    "/admin/inventory/stockmovement/?reason__exact=manual",
    "/admin/inventory/productchange/",
]


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def object_pages(product):
    return [
        f"/admin/inventory/product/{product.pk}/change/",
        f"/admin/inventory/product/{product.pk}/delete/",
        f"/admin/inventory/category/{product.category_id}/change/",
        f"/admin/inventory/stockmovement/{product.movements.get().pk}/change/",
    ]


@pytest.fixture
def stocked(product, inventory_manager):
    product_set_quantity(product=product, quantity=4, actor=inventory_manager)
    return product


@pytest.mark.parametrize("role", ["inventory_manager", "superuser"])
def test_inventory_admin_pages_open(role, user_in_role, stocked):
    client = admin_client(user_in_role(role))
    for url in PAGES + object_pages(stocked):
        response = client.get(url)
        assert response.status_code == 200, url
    index = client.get("/admin/").content.decode()
    assert "/admin/inventory/product/" in index
    assert "/admin/inventory/stockmovement/" in index


@pytest.mark.parametrize("role", ["order_manager", "analyst"])
def test_inventory_admin_pages_forbidden_other_staff(role, user_in_role, stocked):
    client = admin_client(user_in_role(role))
    assert "/admin/inventory/" not in client.get("/admin/").content.decode()
    for url in PAGES[1:] + object_pages(stocked):
        assert client.get(url).status_code in (403, 404), url  # the app index is a 404
    assert client.get("/admin/inventory/product/").status_code == 403


def test_inventory_admin_customer_redirected_to_login(customer, stocked):
    client = admin_client(customer)
    for url in PAGES + object_pages(stocked):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")


def test_inventory_admin_stock_filters(inventory_manager, settings, category):
    settings.LOW_STOCK_THRESHOLD = 5
    out = ProductFactory(category=category, quantity=0)
    low = ProductFactory(category=category, quantity=4)
    ok = ProductFactory(category=category, quantity=5)
    client = admin_client(inventory_manager)

    def listed(stock):
        response = client.get("/admin/inventory/product/", {"stock": stock})
        return set(response.context["cl"].result_list)

    assert listed("out") == {out}
    assert listed("low") == {low}
    assert listed("in") == {low, ok}


def test_low_stock_one_definition_for_admin_and_dashboard(settings, category, client):
    """The admin's stock filter and the dashboard's list agree: fewer than
    LOW_STOCK_THRESHOLD on hand is low, none is out; both are to restock."""
    from accounts.tests.factories import StaffFactory
    from inventory import selectors

    settings.LOW_STOCK_THRESHOLD = 5
    out, low, ok = (ProductFactory(category=category, quantity=q) for q in (0, 4, 5))
    ProductFactory(category=category, quantity=1, is_active=False)  # archived: not listed

    assert [selectors.stock_level(p.quantity) for p in (out, low, ok)] == ["out", "low", "ok"]
    client.force_login(StaffFactory(role="inventory"))
    listed = {
        level: {
            p.pk
            for p in client.get(
                "/admin/inventory/product/", {"stock": level, "is_active__exact": "1"}
            )
            .context["cl"]
            .result_list
        }
        for level in ("out", "low")
    }
    assert listed == {"out": {out.pk}, "low": {low.pk}}
    assert list(selectors.low_stock_products()) == [out, low]


def change_form(product, **changes):
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category_id,
        "price": str(product.price),
        "cost": str(product.cost),
        "quantity": product.quantity,
        "is_active": "on",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
        "movements-MIN_NUM_FORMS": "0",
        "movements-MAX_NUM_FORMS": "0",
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
        "changes-MIN_NUM_FORMS": "0",
        "changes-MAX_NUM_FORMS": "0",
        **changes,
    }


def test_admin_quantity_edit_leaves_movement(inventory_manager, product):
    client = admin_client(inventory_manager)
    url = f"/admin/inventory/product/{product.pk}/change/"
    response = client.post(url, change_form(product, quantity=3, price="25.00"))
    assert response.status_code == 302, response.context["adminform"].errors
    product.refresh_from_db()
    assert (product.quantity, str(product.price)) == (3, "25.00")
    movement = StockMovement.objects.get(product=product)
    assert (movement.change, movement.quantity_after, movement.reason) == (-7, 3, "manual")
    change = ProductChange.objects.get(product=product)  # the price edit, by its author
    assert (change.actor, change.changes) == (inventory_manager, {"price": ["19.90", "25.00"]})
    assert movement.actor == inventory_manager


def test_admin_list_editable_quantity_leaves_movement(inventory_manager, product):
    client = admin_client(inventory_manager)
    response = client.post(
        "/admin/inventory/product/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": product.pk,
            "form-0-price": "19.90",
            "form-0-quantity": "25",
            "form-0-is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.quantity == 25
    movement = StockMovement.objects.get(product=product)
    assert (movement.change, movement.actor) == (15, inventory_manager)


def test_admin_negative_quantity_refused(inventory_manager, product):
    client = admin_client(inventory_manager)
    url = f"/admin/inventory/product/{product.pk}/change/"
    response = client.post(url, change_form(product, quantity=-1))
    assert response.status_code == 200  # the form again, with its error
    product.refresh_from_db()
    assert product.quantity == 10
    assert not StockMovement.objects.exists()


def test_admin_add_product_initial_stock_movement(inventory_manager, category):
    client = admin_client(inventory_manager)
    blank = Product(sku="AD-1", name="Added", category=category, price="5.00", cost="1.00")
    response = client.post("/admin/inventory/product/add/", change_form(blank, quantity=6))
    assert response.status_code == 302
    product = Product.objects.get(sku="AD-1")
    assert response["Location"].endswith("/admin/inventory/product/")
    assert product.quantity == 6
    movement = product.movements.get()
    assert (movement.change, movement.actor) == (6, inventory_manager)


def test_admin_add_product_taken_sku_field_error(inventory_manager, product):
    client = admin_client(inventory_manager)
    blank = Product(sku="BK-1", name="Added", category=product.category, price="5.00")
    response = client.post("/admin/inventory/product/add/", change_form(blank, quantity=0))
    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors == {
        "sku": ["Product with this SKU already exists."]
    }
    assert list(Product.objects.all()) == [product]


def test_admin_delete_product_with_movements(inventory_manager, stocked):
    client = admin_client(inventory_manager)
    response = client.post(f"/admin/inventory/product/{stocked.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


def test_admin_delete_ordered_product_refused(inventory_manager, product, sold):
    sold(product)
    client = admin_client(inventory_manager)
    response = client.post(f"/admin/inventory/product/{product.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200  # "cannot delete: protected objects"
    assert Product.objects.filter(pk=product.pk).exists()


def test_admin_category_add_duplicate_refused(inventory_manager, category):
    client = admin_client(inventory_manager)
    response = client.post("/admin/inventory/category/add/", {"name": "BOOKS"})
    assert response.status_code == 200
    assert Category.objects.count() == 1
    response = client.post("/admin/inventory/category/add/", {"name": "Toys"})
    assert response.status_code == 302
    assert Category.objects.filter(name="Toys").exists()


def test_admin_movements_read_only(inventory_manager, superuser, stocked):
    for user in (inventory_manager, superuser):
        client = admin_client(user)
        movement = stocked.movements.get()
        assert client.get("/admin/inventory/stockmovement/add/").status_code == 403
        url = f"/admin/inventory/stockmovement/{movement.pk}/change/"
        client.post(url, {"change": "100", "quantity_after": "104", "reason": "manual"})
        assert (
            client.get(f"/admin/inventory/stockmovement/{movement.pk}/delete/").status_code == 403
        )
        movement.refresh_from_db()
        assert movement.change == -6


def test_admin_product_changelist_query_count(
    inventory_manager, category, django_assert_max_num_queries
):
    ProductFactory.create_batch(40, category=category)
    client = admin_client(inventory_manager)
    client.get("/admin/inventory/product/")
    with django_assert_max_num_queries(12):
        assert client.get("/admin/inventory/product/").status_code == 200


def test_admin_movement_list_query_count(inventory_manager, product, django_assert_max_num_queries):
    for quantity in range(1, 30):
        product_set_quantity(product=product, quantity=quantity, actor=inventory_manager)
    client = admin_client(inventory_manager)
    client.get("/admin/inventory/stockmovement/")
    with django_assert_max_num_queries(10):
        assert client.get("/admin/inventory/stockmovement/").status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(f"/admin/inventory/product/{product.pk}/change/").status_code == 200


def test_admin_login_refuses_customer(customer):
    from accounts.tests.factories import PASSWORD

    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": customer.email, "password": PASSWORD}
    )
    assert response.status_code == 200  # the login form again, with its error
    assert "_auth_user_id" not in client.session
