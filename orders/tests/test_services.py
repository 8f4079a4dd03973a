from decimal import Decimal

import pytest

from inventory.models import StockMovement
from orders import services
from orders.models import Order
from orders.tests.factories import ProductFactory, order_make

pytestmark = pytest.mark.django_db


def test_order_execute_calls_sales_summary_with_fixed_lines(monkeypatch):
    calls = []

    def record(*, order, sign):
        calls.append((sign, [(line.unit_price, line.unit_cost) for line in order.lines.all()]))

    monkeypatch.setattr(services, "order_sales_record", record)
    order = order_make(items=[(ProductFactory(price=Decimal("3.00"), cost=Decimal("1.00")), 1)])
    services.order_execute(order=order, actor=None)
    services.order_refund(order=order, actor=None)
    assert calls == [
        (1, [(Decimal("3.00"), Decimal("1.00"))]),
        (-1, [(Decimal("3.00"), Decimal("1.00"))]),
    ]


def test_order_refund_not_executed_raises_and_changes_nothing():
    order = order_make(items=[(ProductFactory(quantity=5), 2)])
    with pytest.raises(services.OrderNotExecuted):
        services.order_refund(order=order, actor=None)
    assert Order.objects.get().status == "pending"
    assert not StockMovement.objects.exists()


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
