from decimal import Decimal

import pytest
from django.db import transaction

from inventory.models import Product, StockMovement
from inventory.services import InsufficientStock
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
    assert StockMovement.objects.filter(reason="refund", change=2, order_id=order.pk).count() == 1
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


def test_order_execute_stock_gone_after_charge_voids_the_charge(monkeypatch):
    """Stock looked sufficient before the charge; under the product lock it is not."""
    product = ProductFactory(quantity=2)
    order = order_make(items=[(product, 2)])
    real_charge = TestGateway.charge

    def charge_while_someone_buys(self, **kwargs):
        Product.objects.filter(pk=product.pk).update(quantity=1)  # a sale lands meanwhile
        return real_charge(self, **kwargs)

    monkeypatch.setattr(TestGateway, "charge", charge_while_someone_buys)
    TestGateway.log.clear()
    with pytest.raises(InsufficientStock) as error:
        services.order_execute(order=order, actor=None)
    assert error.value.extra["items"] == [{"product": product.pk, "requested": 2, "available": 1}]
    assert [op for op, _ in TestGateway.log] == ["charge", "void"]
    assert Order.objects.get().status == "pending"
    assert not Payment.objects.exists()
    assert not StockMovement.objects.exists()


def test_order_execute_idempotent_stock_gone_after_charge_voids_the_charge(monkeypatch):
    """The same race inside an idempotent request, whose transaction goes on and commits."""
    product = ProductFactory(quantity=2)
    order = order_make(items=[(product, 2)])
    real_charge = TestGateway.charge

    def charge_while_someone_buys(self, **kwargs):
        Product.objects.filter(pk=product.pk).update(quantity=1)
        return real_charge(self, **kwargs)

    def handler():
        services.order_execute(order=order, actor=None)
        return 200, {}

    monkeypatch.setattr(TestGateway, "charge", charge_while_someone_buys)
    TestGateway.log.clear()
    status, body, replayed = services.idempotent_call(
        user=order.customer, key="k", fingerprint="f", handler=handler
    )
    assert (status, body["code"], replayed) == (409, "insufficient_stock", False)
    assert [op for op, _ in TestGateway.log] == ["charge", "void"]
    assert Product.objects.get().quantity == 2
    assert not Payment.objects.exists()


def test_purge_idempotency_keys_deletes_only_expired(customer):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from orders.models import IdempotencyKey

    old = IdempotencyKey.objects.create(user=customer, key="old", request_fingerprint="f")
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyKey.objects.create(user=customer, key="new", request_fingerprint="f")
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "Deleted 1 " in out.getvalue()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
