from decimal import Decimal

import pytest
from django.db import transaction

from inventory.models import Product, StockMovement
from orders import payments, services
from orders.models import Order, Payment
from orders.payments import TestGateway
from orders.tests.factories import ProductFactory, order_make

pytestmark = pytest.mark.django_db


def test_order_execute_fails_after_charge_voids_the_charge(monkeypatch):
    product = ProductFactory(quantity=5)
    order = order_make(items=[(product, 2)])

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "sales_summary_record", broken)
    TestGateway.log.clear()
    with pytest.raises(RuntimeError):
        services.order_execute(order=order, actor=order.customer)
    (charge, ref), (void, voided) = TestGateway.log
    assert (charge, void, voided) == ("charge", "void", ref)
    assert Order.objects.get().status == "pending"
    assert Product.objects.get().quantity == 5
    assert not Payment.objects.exists()


def test_order_execute_commit_fails_voids_the_charge():
    """The charge succeeded and the service returned, but the transaction never committed."""
    product = ProductFactory(quantity=5)
    order = order_make(items=[(product, 2)])
    TestGateway.log.clear()
    with pytest.raises(ZeroDivisionError):
        with payments.charges_voided_on_rollback():
            services.order_execute(order=order, actor=order.customer)
            1 / 0  # noqa: B018 - stands for a failing commit
    assert [op for op, _ in TestGateway.log] == ["charge", "void"]
    assert Order.objects.get().status == "pending"
    assert Product.objects.get().quantity == 5


def test_order_execute_committed_charge_is_not_voided():
    order = order_make(items=[(ProductFactory(quantity=5), 2)])
    TestGateway.log.clear()
    services.order_execute(order=order, actor=order.customer)
    assert [op for op, _ in TestGateway.log] == ["charge"]


def test_order_execute_calls_sales_summary_with_fixed_lines(monkeypatch):
    calls = []

    def record(*, order, sign):
        calls.append((sign, [(line.unit_price, line.unit_cost) for line in order.lines.all()]))

    monkeypatch.setattr(services, "sales_summary_record", record)
    order = order_make(items=[(ProductFactory(price=Decimal("3.00"), cost=Decimal("1.00")), 1)])
    services.order_execute(order=order, actor=None)
    services.order_refund(order=order, actor=None)
    assert calls == [
        (1, [(Decimal("3.00"), Decimal("1.00"))]),
        (-1, [(Decimal("3.00"), Decimal("1.00"))]),
    ]


def test_order_refund_returns_stock_and_refunds_payment(django_capture_on_commit_callbacks):
    product = ProductFactory(quantity=5)
    order = order_make(items=[(product, 2)])
    services.order_execute(order=order, actor=None)
    TestGateway.log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_refund(order=order, actor=None)
    order.refresh_from_db()
    assert order.status == "refunded" and order.refunded_at
    assert Product.objects.get().quantity == 5
    assert StockMovement.objects.filter(reason="refund", change=2, order=order).count() == 1
    assert Payment.objects.get().status == "refunded"
    assert [op for op, _ in TestGateway.log] == ["refund"]


def test_order_refund_not_executed_raises_and_changes_nothing():
    order = order_make(items=[(ProductFactory(quantity=5), 2)])
    with pytest.raises(services.OrderNotExecuted):
        services.order_refund(order=order, actor=None)
    assert Order.objects.get().status == "pending"
    assert not StockMovement.objects.exists()


def test_charges_voided_on_rollback_nested_joins_outer():
    TestGateway.log.clear()
    gateway = TestGateway()
    with pytest.raises(ValueError):
        with payments.charges_voided_on_rollback():
            with payments.charges_voided_on_rollback():
                payments.charge_track(gateway=gateway, reference="r1")
            assert transaction.get_connection().in_atomic_block
            raise ValueError
    assert TestGateway.log == [("void", "r1")]
