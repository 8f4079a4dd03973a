"""Order writes: create, update, cancel, execute, refund. (Filled in by the orders issue.)"""

from django.db import transaction
from django.utils import timezone

from orders.models import Order, OrderEvent


@transaction.atomic
def orders_cancel_for_deleted_user(*, user) -> int:
    """Cancel every pending order of an account being deleted. Executed ones stay."""
    now = timezone.now()
    pending = list(
        Order.objects.select_for_update()
        .filter(customer=user, status=Order.Status.PENDING)
        .order_by("pk")
    )
    for order in pending:
        order.status = Order.Status.CANCELLED
        order.cancelled_at = now
        order.save(update_fields=["status", "cancelled_at", "updated_at"])
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=o,
                type=OrderEvent.Type.CANCELLED,
                actor=user,
                data={"reason": "account_deleted"},
            )
            for o in pending
        ]
    )
    return len(pending)
