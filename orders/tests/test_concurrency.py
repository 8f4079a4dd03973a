"""Real threads, real transactions, PostgreSQL's row locks."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from inventory.models import Product, StockMovement
from inventory.services import InsufficientStock, product_set_quantity, stock_adjust
from orders import services
from orders.models import Order, Payment
from orders.tests.factories import ProductFactory, order_make
from orders.tests.payment_helpers import assert_money_invariant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def run_together(funcs):
    """Start every function at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(funcs))

    def run(func):
        try:
            barrier.wait()
            return func()
        except Exception as exc:  # collected, asserted by the test
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(funcs)) as pool:
        return list(pool.map(run, funcs))


def test_order_execute_concurrent_never_oversells():
    product = ProductFactory(quantity=10)
    orders = [order_make(items=[(product, 1)]) for _ in range(30)]
    results = run_together(
        [lambda o=o: services.order_execute(order=o, actor=None) for o in orders]
    )
    assert sum(isinstance(r, Order) for r in results) == 10
    assert all(isinstance(r, (Order, InsufficientStock)) for r in results), results
    assert Product.objects.get().quantity == 0
    assert Order.objects.filter(status="executed").count() == 10
    assert Payment.objects.filter(state="captured").count() == 10
    assert StockMovement.objects.filter(reason="order").count() == 10
    assert_money_invariant()


def test_order_execute_opposite_product_order_no_deadlock():
    a, b = ProductFactory(quantity=10), ProductFactory(quantity=10)
    funcs = []
    for i in range(8):
        items = [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)]
        order = order_make(items=items)
        funcs.append(lambda o=order: services.order_execute(order=o, actor=None))
    results = run_together(funcs)
    assert all(isinstance(r, Order) for r in results), results
    assert dict(Product.objects.values_list("pk", "quantity")) == {a.pk: 2, b.pk: 2}


def test_order_execute_concurrent_idempotent_duplicates_execute_once():
    customer = UserFactory()
    product = ProductFactory(quantity=10)
    order = order_make(customer=customer, items=[(product, 3)])
    token = str(RefreshToken.for_user(customer).access_token)

    def execute():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = client.post(f"/api/v1/orders/{order.pk}/execute/", {}, HTTP_IDEMPOTENCY_KEY="k1")
        return response.status_code, response.json()

    results = run_together([execute] * 6)
    assert {status for status, _ in results} == {200}, results
    assert all(body == results[0][1] for _, body in results)
    assert Product.objects.get().quantity == 7
    assert Payment.objects.count() == 1
    assert_money_invariant()


def test_stock_changes_while_orders_execute_lose_nothing():
    product = ProductFactory(quantity=5)
    orders = [order_make(items=[(product, 1)]) for _ in range(12)]
    funcs = [lambda o=o: services.order_execute(order=o, actor=None) for o in orders]
    funcs += [lambda: stock_adjust(changes={product.pk: 3}, reason="import")] * 4
    results = run_together(funcs)
    sold = sum(isinstance(r, Order) for r in results)
    assert not [r for r in results if not isinstance(r, (Order, InsufficientStock, dict))]
    product.refresh_from_db()
    assert product.quantity == 5 + 12 - sold >= 0
    # The ledger agrees with the stock, movement after movement.
    after = 5
    for change, quantity_after in (
        StockMovement.objects.filter(product=product)
        .order_by("pk")
        .values_list("change", "quantity_after")
    ):
        after += change
        assert quantity_after == after
    assert after == product.quantity


def test_stock_count_while_orders_execute_is_consistent():
    product = ProductFactory(quantity=20)
    orders = [order_make(items=[(product, 1)]) for _ in range(10)]
    funcs = [lambda o=o: services.order_execute(order=o, actor=None) for o in orders]
    funcs.append(lambda: product_set_quantity(product=product, quantity=50, actor=None))
    results = run_together(funcs)
    assert all(not isinstance(r, Exception) for r in results), results
    product.refresh_from_db()
    movements = list(StockMovement.objects.filter(product=product).values_list("change", flat=True))
    assert product.quantity == 20 + sum(movements)
    assert connection.vendor == "postgresql"


def test_spreadsheet_import_while_orders_execute_loses_no_change():
    """A real import (setting stock on hand) races real executions of the same products."""
    from inventory.spreadsheets import product_import

    hot = [ProductFactory(quantity=10) for _ in range(3)]
    orders = [order_make(items=[(hot[i % 3], 1), (hot[(i + 1) % 3], 1)]) for i in range(12)]
    header = ["sku", "name", "category", "price", "cost", "quantity"]
    rows = [header] + [
        [p.sku, p.name, p.category.name, "9.99", "1.00", "40"] for p in reversed(hot)
    ]
    funcs = [lambda o=o: services.order_execute(order=o, actor=None) for o in orders]
    funcs.insert(6, lambda: product_import(rows=rows, file_name="restock.csv"))
    results = run_together(funcs)

    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientStock)
    ]
    assert not unexpected, unexpected
    for product in hot:
        product.refresh_from_db()
        ledger = list(
            StockMovement.objects.filter(product=product)
            .order_by("pk")
            .values_list("change", "quantity_after", "reason")
        )
        after = 10  # the factory's starting stock
        for change, quantity_after, _reason in ledger:
            after += change
            assert quantity_after == after >= 0, ledger
        assert after == product.quantity
        sold = sum(-c for c, _, reason in ledger if reason == "order")
        executed_units = sum(
            line.quantity
            for line in product.order_lines.filter(order__status=Order.Status.EXECUTED)
        )
        assert sold == executed_units
        assert any(reason == "import" for _, _, reason in ledger)


def test_order_execute_concurrent_different_requests_charge_once():
    """Six executions of one order, each its own request (no shared key): one charges and
    executes, the others answer 409 (payment in progress, or no longer pending)."""
    customer = UserFactory()
    product = ProductFactory(quantity=10)
    order = order_make(customer=customer, items=[(product, 3)])
    token = str(RefreshToken.for_user(customer).access_token)

    def execute():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = client.post(f"/api/v1/orders/{order.pk}/execute/", {})
        return response.status_code, response.json().get("code")

    results = run_together([execute] * 6)
    assert sorted(status for status, _ in results) == [200] + [409] * 5, results
    assert {code for status, code in results if status == 409} <= {
        "payment_in_progress",
        "order_not_pending",
    }
    assert Product.objects.get().quantity == 7
    assert list(Payment.objects.values_list("state", flat=True)) == ["captured"]
    assert_money_invariant()
