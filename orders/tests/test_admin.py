from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry

from inventory.models import Product, StockMovement
from orders import services
from orders.models import Order
from orders.tests.factories import ProductFactory, order_make

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def admin_client_for(client):
    def make(user):
        client.force_login(user)
        return client

    return make


def test_order_admin_list_search_filter_and_open(admin_client_for, order_manager):
    executed = order_make(country="DE")
    services.order_execute(order=executed, actor=None)
    pending = order_make(country="FR")
    client = admin_client_for(order_manager)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert {o.pk for o in response.context["cl"].result_list} == {executed.pk, pending.pk}
    for query, expected in [
        ({"status__exact": "executed"}, {executed.pk}),
        ({"shipping_country": "FR"}, {pending.pk}),
        ({"executed_at__isnull": "False"}, {executed.pk}),
        ({"q": pending.customer.email}, {pending.pk}),
        ({"q": str(executed.pk)}, {executed.pk}),
    ]:
        response = client.get(CHANGELIST, query)
        assert response.status_code == 200, query
        assert {o.pk for o in response.context["cl"].result_list} == expected, query
    response = client.get(f"{CHANGELIST}{executed.pk}/change/")
    assert response.status_code == 200
    assert executed.lines.get().product.name in response.content.decode()
    assert b"Captured" in response.content


def test_order_admin_cancel_action(admin_client_for, order_manager):
    pending = order_make()
    executed = order_make()
    services.order_execute(order=executed, actor=None)
    response = admin_client_for(order_manager).post(
        CHANGELIST,
        {"action": "cancel_pending", "_selected_action": [pending.pk, executed.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert dict(Order.objects.values_list("pk", "status")) == {
        pending.pk: "cancelled",
        executed.pk: "executed",
    }
    log = LogEntry.objects.get()
    assert (log.object_id, log.user, log.change_message) == (
        str(pending.pk),
        order_manager,
        "Cancelled",
    )
    assert pending.events.last().actor == order_manager


def test_order_admin_refund_and_restock_action(admin_client_for, order_manager):
    product = ProductFactory(quantity=10)
    executed = order_make(items=[(product, 4)])
    services.order_execute(order=executed, actor=None)
    pending = order_make(items=[(product, 1)])
    response = admin_client_for(order_manager).post(
        CHANGELIST,
        {
            "action": "refund_and_restock",
            "_selected_action": [executed.pk, pending.pk],
            "post": "yes",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert dict(Order.objects.values_list("pk", "status")) == {
        executed.pk: "refunded",
        pending.pk: "pending",
    }
    assert Product.objects.get().quantity == 10
    movement = StockMovement.objects.get(reason="refund")
    assert (movement.change, movement.order_id, movement.actor) == (4, executed.pk, order_manager)
    assert LogEntry.objects.get().object_id == str(executed.pk)


@pytest.mark.parametrize("role", ["inventory_manager", "analyst"])
def test_order_admin_forbidden_for_other_roles(admin_client_for, request, role):
    order = order_make()
    client = admin_client_for(request.getfixturevalue(role))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{order.pk}/change/").status_code == 403
    response = client.post(
        CHANGELIST, {"action": "cancel_pending", "_selected_action": [order.pk], "post": "yes"}
    )
    assert response.status_code == 403
    assert Order.objects.get().status == "pending"


def test_order_admin_change_page_queries_do_not_grow_with_lines(
    admin_client_for, order_manager, django_assert_max_num_queries
):
    order = order_make(items=[(ProductFactory(), 1) for _ in range(6)])
    client = admin_client_for(order_manager)
    client.get(CHANGELIST)  # session, permissions cached
    with django_assert_max_num_queries(10):
        response = client.get(f"{CHANGELIST}{order.pk}/change/")
    assert response.status_code == 200
    assert b'name="_save"' not in response.content


def test_order_admin_list_total_is_the_api_total(admin_client_for, order_manager, client_for):
    """One rule for both: a pending order at its products' current prices, an executed one at
    the total it was charged."""
    product = ProductFactory(price=Decimal("10.00"))
    pending = order_make(items=[(product, 3)])
    executed = order_make(items=[(product, 2)])
    services.order_execute(order=executed, actor=None)
    Product.objects.filter(pk=product.pk).update(price=Decimal("12.50"))

    response = admin_client_for(order_manager).get(CHANGELIST)
    admin = response.context["cl"].model_admin
    shown = {o.pk: admin.order_total(o) for o in response.context["cl"].result_list}
    assert shown == {pending.pk: "37.50", executed.pk: "20.00"}
    api = client_for(pending.customer).get(f"/api/v1/orders/{pending.pk}/").json()
    assert api["total"] == shown[pending.pk]


def test_payment_attempts_admin_shows_unfinished_ones(admin_client_for, order_manager):
    from orders.payments import TestGateway

    captured = order_make()
    services.order_execute(order=captured, actor=None)
    lost = order_make()
    TestGateway.faults_set(charge="error_after")  # charged, the answer lost: unfinished
    with pytest.raises(services.PaymentUnavailable):
        services.order_execute(order=lost, actor=None)
    client = admin_client_for(order_manager)
    response = client.get("/admin/orders/payment/", {"money": "unfinished"})
    assert response.status_code == 200
    assert [p.order_id for p in response.context["cl"].result_list] == [lost.pk]
    response = client.get(CHANGELIST, {"money": "unfinished"})
    assert [o.pk for o in response.context["cl"].result_list] == [lost.pk]
    attempt = lost.payments.get()
    page = client.get(f"/admin/orders/payment/{attempt.pk}/change/").content.decode()
    assert attempt.idempotency_key in page and "injected fault" in page
    # Read-only: no way to change an attempt by hand.
    assert client.post(f"/admin/orders/payment/{attempt.pk}/change/", {}).status_code == 403
