"""What the payment tests share: the money invariant of API.md, checked at the gateway."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from orders import services
from orders.models import Order
from orders.payments import TestGateway


def reconcile_later(minutes: int = 10) -> dict[str, int]:
    """reconcile_payments as it runs once no request is in flight any more."""
    return services.payment_attempts_reconcile(now=timezone.now() + timedelta(minutes=minutes))


def assert_money_invariant() -> None:
    """After reconciliation, for every order: the net amount charged at the gateway (approved
    charges less voids and refunds) is the order's total when it is executed, else zero."""
    reconcile_later()
    wrong = {}
    for pk, status, total in Order.objects.values_list("pk", "status", "total"):
        expected = total if status == Order.Status.EXECUTED else Decimal("0.00")
        charged = TestGateway.net_charged(f"Order {pk}")
        if charged != expected:
            wrong[pk] = (status, str(total), str(charged))
    assert not wrong, f"order: (status, total, net charged) {wrong}"
