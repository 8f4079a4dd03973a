"""The Inventory managers' screens say what is wrong where it is wrong, and link only where a
link leads somewhere they may go."""

import re

import pytest
from django.test import Client

from inventory.models import Product, StockMovement
from inventory.tests.test_admin import change_form
from orders import services
from orders.tests.factories import order_make

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_negative_price_error_is_shown_beside_the_price(product, inventory_manager):
    before = (product.price, StockMovement.objects.count())

    response = logged_in(inventory_manager).post(
        f"/admin/inventory/product/{product.pk}/change/", change_form(product, price="-5.00")
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["price"] == ["Price must be greater than 0."]
    assert "__all__" not in form.errors
    html = re.sub(r"\s+", " ", response.content.decode())
    row = html[html.index('class="form-row') : html.index("field-cost")]
    assert "field-price" in row and "Price must be greater than 0." in row.split("field-price")[1]
    product.refresh_from_db()
    assert (product.price, StockMovement.objects.count()) == before


def test_list_edit_negative_price_is_refused_on_its_cell(product, inventory_manager):
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(product.pk),
        "form-0-price": "-1.00",
        "form-0-quantity": str(product.quantity),
        "form-0-is_active": "on",
        "_save": "Save",
    }

    response = logged_in(inventory_manager).post("/admin/inventory/product/", data)

    assert response.status_code == 200
    [row] = response.context["cl"].formset.forms
    assert row.errors["price"] == ["Price must be greater than 0."]
    assert Product.objects.get(pk=product.pk).price == product.price


@pytest.fixture
def sold(product, inventory_manager):
    from inventory.services import product_set_quantity

    product_set_quantity(product=product, quantity=5, actor=inventory_manager)
    order = order_make(items=[(product, 2)])
    services.order_execute(order=order, actor=order.customer)
    return StockMovement.objects.get(order_id=order.pk)


def test_movement_user_and_order_are_text_for_inventory_managers(sold, inventory_manager):
    client = logged_in(inventory_manager)

    pages = [
        client.get(f"/admin/inventory/stockmovement/{sold.pk}/change/").content.decode(),
        client.get("/admin/inventory/stockmovement/").content.decode(),
        client.get(f"/admin/inventory/product/{sold.product_id}/change/").content.decode(),
    ]

    for html in pages:
        assert f"Order #{sold.order_id}" in html
        assert "/admin/orders/" not in html
        assert "/admin/accounts/user/" not in html


def test_movement_user_and_order_are_links_for_a_superuser(sold, superuser):
    html = logged_in(superuser).get(f"/admin/inventory/stockmovement/{sold.pk}/change/")

    assert f'href="/admin/orders/order/{sold.order_id}/change/"' in html.content.decode()
    assert f'href="/admin/accounts/user/{sold.actor_id}/change/"' in html.content.decode()
