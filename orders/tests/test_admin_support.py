"""The Order managers' screens as support uses them: confirmation before a refund or a
cancellation, buttons on the order's page, customers looked up, links only where they lead."""

from decimal import Decimal

import pytest

from inventory.models import Product, StockMovement
from orders import services
from orders.models import Order
from orders.tests.factories import ProductFactory, order_make

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def as_order_manager(client, order_manager):
    client.force_login(order_manager)
    return client


def executed_order(quantity=2, stock=10):
    product = ProductFactory(quantity=stock, price=Decimal("12.50"))
    order = order_make(items=[(product, quantity)])
    return services.order_execute(order=order, actor=None), product


def test_refund_action_first_lists_orders_and_amounts_and_changes_nothing(as_order_manager):
    order, product = executed_order(quantity=2)
    pending = order_make()

    response = as_order_manager.post(
        CHANGELIST, {"action": "refund_and_restock", "_selected_action": [order.pk, pending.pk]}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Order #{order.pk}" in html and "25.00" in html
    assert f"Order #{pending.pk} (pending)" in html  # listed as left alone
    assert 'name="post" value="yes"' in html
    assert dict(Order.objects.values_list("pk", "status")) == {
        order.pk: "executed",
        pending.pk: "pending",
    }
    assert Product.objects.get(pk=product.pk).quantity == 8
    assert not StockMovement.objects.filter(reason="refund").exists()


def test_order_page_has_refund_button_leading_to_confirmation(as_order_manager):
    order, product = executed_order(quantity=3)

    page = as_order_manager.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    confirm = as_order_manager.get(f"{CHANGELIST}{order.pk}/refund/")

    assert f'href="{CHANGELIST}{order.pk}/refund/"' in page
    assert "/cancel/" not in page  # an executed order cannot be cancelled
    assert confirm.status_code == 200
    assert "37.50" in confirm.content.decode()
    assert Order.objects.get(pk=order.pk).status == "executed"

    response = as_order_manager.post(f"{CHANGELIST}{order.pk}/refund/")

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{order.pk}/change/"
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert Product.objects.get(pk=product.pk).quantity == 10


def test_order_page_cancel_button_cancels_a_pending_order_after_confirmation(
    as_order_manager, order_manager
):
    order = order_make()

    page = as_order_manager.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    as_order_manager.get(f"{CHANGELIST}{order.pk}/cancel/")
    unchanged = Order.objects.get(pk=order.pk).status
    response = as_order_manager.post(f"{CHANGELIST}{order.pk}/cancel/")

    assert f'href="{CHANGELIST}{order.pk}/cancel/"' in page
    assert unchanged == "pending"
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.events.last().actor == order_manager


def test_refund_page_of_a_pending_order_changes_nothing(as_order_manager):
    order = order_make()

    confirm = as_order_manager.get(f"{CHANGELIST}{order.pk}/refund/")
    as_order_manager.post(f"{CHANGELIST}{order.pk}/refund/")

    assert "nothing to do" in confirm.content.decode()
    assert Order.objects.get(pk=order.pk).status == "pending"


@pytest.mark.parametrize("role", ["inventory_manager", "analyst"])
def test_refund_page_forbidden_for_other_roles(client, request, role):
    order, _ = executed_order()
    client.force_login(request.getfixturevalue(role))

    assert client.get(f"{CHANGELIST}{order.pk}/refund/").status_code == 403
    assert client.post(f"{CHANGELIST}{order.pk}/refund/").status_code == 403
    assert Order.objects.get(pk=order.pk).status == "executed"


def test_order_page_is_titled_with_its_number_and_links_only_what_the_role_may_open(
    as_order_manager,
):
    order, product = executed_order()

    html = as_order_manager.get(f"{CHANGELIST}{order.pk}/change/").content.decode()

    assert f"<h1>Order #{order.pk}</h1>" in html
    assert "Change order" not in html
    assert product.name in html
    assert "/admin/inventory/" not in html  # the line's product: text for Order managers
    assert f'href="/admin/accounts/customer/{order.customer_id}/change/"' in html


def test_superuser_sees_the_lines_product_as_a_link(client, superuser):
    order, product = executed_order()
    client.force_login(superuser)

    html = client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()

    assert f'href="/admin/inventory/product/{product.pk}/change/"' in html


def test_customers_read_only_with_orders_and_total_spent(as_order_manager):
    order, _ = executed_order(quantity=2)
    order_make(customer=order.customer)  # pending: counted, not spent
    customer = order.customer

    listing = as_order_manager.get("/admin/accounts/customer/", {"q": customer.email})
    page = as_order_manager.get(f"/admin/accounts/customer/{customer.pk}/change/")

    assert listing.status_code == 200
    [row] = listing.context["cl"].result_list
    assert (row.email, row.order_count, row.total_spent) == (customer.email, 2, Decimal("25.00"))
    html = page.content.decode()
    assert page.status_code == 200
    assert customer.email in html and "25.00" in html
    assert customer.password not in html
    assert "field-password" not in html and "md5$" not in html
    assert f"?customer__id__exact={customer.pk}" in html
    orders = as_order_manager.get(CHANGELIST, {"customer__id__exact": customer.pk})
    assert len(orders.context["cl"].result_list) == 2
    # Read-only.
    assert (
        as_order_manager.post(f"/admin/accounts/customer/{customer.pk}/change/").status_code == 403
    )


def test_customers_hidden_from_inventory_managers(client, inventory_manager):
    client.force_login(inventory_manager)

    assert client.get("/admin/accounts/customer/").status_code == 403


def test_country_filter_shows_country_names(as_order_manager):
    order_make(country="DE")
    order_make(country="FR")

    response = as_order_manager.get(CHANGELIST)

    [countries] = [f for f in response.context["cl"].filter_specs if f.title == "shipping country"]
    assert [c[1] for c in countries.lookup_choices] == ["France", "Germany"]
    filtered = as_order_manager.get(CHANGELIST, {"shipping_country": "DE"})
    assert [o.shipping_country.code for o in filtered.context["cl"].result_list] == ["DE"]


def test_customers_filter_by_account_state(as_order_manager):
    active = order_make().customer
    closed = order_make().customer
    closed.is_active = False
    closed.save(update_fields=["is_active"])

    shown = {
        value: {
            c.pk
            for c in as_order_manager.get("/admin/accounts/customer/", {"account": value})
            .context["cl"]
            .result_list
        }
        for value in ("active", "closed")
    }

    assert shown == {"active": {active.pk}, "closed": {closed.pk}}
