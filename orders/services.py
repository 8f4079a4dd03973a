"""Order writes: create, update, cancel, execute, refund, and idempotent retries.

Lock order, everywhere: the order row, then its products in primary-key order (through
inventory.services.stock_adjust). Stock is only touched at execution (reason `order`) and at
refund (reason `refund`); a pending order reserves nothing.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from analytics.services import sales_summary_record
from inventory.models import Product, StockMovement
from inventory.services import InsufficientStock, stock_adjust
from orders import payments
from orders.models import IdempotencyKey, Order, OrderEvent, OrderLine, Payment
from shop.exceptions import DomainError


class OrderNotPending(DomainError):
    code = "order_not_pending"
    detail = "Only a pending order can be changed, cancelled or executed."


class OrderNotExecuted(DomainError):
    code = "order_not_executed"
    detail = "Only an executed order can be refunded."


class PaymentDeclined(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "payment_declined"
    detail = "The payment was declined."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    detail = "This Idempotency-Key was already used with a different request."


@dataclass(frozen=True)
class OrderItem:
    product: Product
    quantity: int


def _check_items(items: Sequence[OrderItem]) -> None:
    """Raise ValidationError (400) unless the items are orderable right now."""
    if not items:
        raise ValidationError({"items": ["An order needs at least one item."]})
    seen = set()
    errors = []
    for item in items:
        if item.product.pk in seen:
            errors.append(f"Product {item.product.pk} is repeated.")
        seen.add(item.product.pk)
        if item.quantity < 1:
            errors.append(f"Quantity for product {item.product.pk} must be at least 1.")
        if not item.product.is_active:
            errors.append(f"Product {item.product.pk} is not available.")
        elif item.quantity > item.product.quantity:
            errors.append(
                f"Only {item.product.quantity} of product {item.product.pk} in stock "
                f"({item.quantity} requested)."
            )
    if errors:
        raise ValidationError({"items": errors})


def _lines_create(*, order: Order, items: Sequence[OrderItem]) -> None:
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=i.product,
                quantity=i.quantity,
                unit_price=i.product.price,
            )
            for i in items
        ]
    )


def _total(items: Sequence[OrderItem]) -> Decimal:
    return sum((i.product.price * i.quantity for i in items), Decimal("0.00"))


def _lines_replace(*, order: Order, items: Sequence[OrderItem]) -> None:
    order.lines.all().delete()
    _lines_create(order=order, items=items)
    order.total = _total(items)


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_create(*, customer, shipping_country: str, items: Sequence[OrderItem]) -> Order:
    """Create a pending order. Raises ValidationError for items that cannot be ordered now
    (archived, repeated, quantity < 1, more than in stock). Stock is not reserved."""
    _check_items(items)
    order = Order.objects.create(
        customer=customer, shipping_country=shipping_country, total=_total(items)
    )
    _lines_create(order=order, items=items)
    OrderEvent.objects.create(order=order, type=OrderEvent.Type.CREATED, actor=customer)
    return order


@transaction.atomic
def order_update(
    *,
    order: Order,
    actor,
    shipping_country: str | None = None,
    items: Sequence[OrderItem] | None = None,
) -> Order:
    """Change a pending order's country and/or replace all its lines.

    Locks the order. Raises OrderNotPending (409) or ValidationError (400)."""
    order = _lock(order)
    if order.status != Order.Status.PENDING:
        raise OrderNotPending()
    fields, changed = ["updated_at"], {}
    if shipping_country is not None:
        order.shipping_country = shipping_country
        fields.append("shipping_country")
        changed["shipping_country"] = shipping_country
    if items is not None:
        _check_items(items)
        _lines_replace(order=order, items=items)
        fields.append("total")
        changed["items"] = [{"product": i.product.pk, "quantity": i.quantity} for i in items]
    order.save(update_fields=fields)
    OrderEvent.objects.create(order=order, type=OrderEvent.Type.UPDATED, actor=actor, data=changed)
    return order


@transaction.atomic
def order_cancel(*, order: Order, actor, reason: str = "") -> Order:
    """Cancel a pending order (nothing was reserved, so stock does not move).

    Locks the order. Raises OrderNotPending (409)."""
    order = _lock(order)
    if order.status != Order.Status.PENDING:
        raise OrderNotPending()
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    OrderEvent.objects.create(
        order=order, type=OrderEvent.Type.CANCELLED, actor=actor, data={"reason": reason}
    )
    return order


def order_execute(*, order: Order, actor, payment_token: str = "") -> Order:
    """Execute a pending order: fix prices, charge, take the stock, all in one transaction.

    Locks the order; answers a committed stock shortage at once; charges the payment; then
    locks its products in primary-key order and lowers the stock. Each line's unit_price and
    unit_cost are fixed from the product at this moment; stock falls by each line's quantity
    (movement reason `order`); the payment and an `executed` event are recorded.
    Raises OrderNotPending (409), InsufficientStock (409, with `items`) or PaymentDeclined
    (402). On any failure stock, the order and approved payments are unchanged; a declined
    payment is kept as a `declined` Payment and a `payment_declined` event. An approved
    charge is voided if the transaction does not commit (see orders.payments).
    """
    gateway = payments.get_gateway()
    with payments.charges_voided_on_rollback():
        locked = _lock(order)
        if locked.status != Order.Status.PENDING:
            raise OrderNotPending()
        declined = _order_execute_locked(
            order=locked, actor=actor, gateway=gateway, payment_token=payment_token
        )
    if declined:  # raised after the commit, which keeps the record of the attempt
        raise PaymentDeclined(declined.message or None)
    return locked


def _order_execute_locked(*, order, actor, gateway, payment_token) -> payments.ChargeResult | None:
    """The work of order_execute, the order being locked. Returns the declined charge, if so."""
    now = timezone.now()
    lines = list(order.lines.select_related("product").order_by("pk"))
    if not lines:
        raise ValidationError({"items": ["The order has no items."]})
    # Fail fast, before writing or waiting for product locks, when the committed stock is
    # already short (a true answer at this moment). Enough stock here proves nothing:
    # stock_adjust checks again under the product locks.
    short = [
        {"product": line.product_id, "requested": line.quantity, "available": line.product.quantity}
        for line in sorted(lines, key=lambda line: line.product_id)
        if line.quantity > line.product.quantity
    ]
    if short:
        raise InsufficientStock(items=short)
    for line in lines:
        line.unit_price = line.product.price
        line.unit_cost = line.product.cost
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))
    # Charge while holding only the order's lock: a slow gateway never blocks other orders of
    # the same products. If stock then turns out short under lock, the charge is voided.
    result = gateway.charge(amount=total, token=payment_token, description=f"Order {order.pk}")
    if not result.approved:  # nothing written yet: only the attempt is recorded
        Payment.objects.create(
            order=order, amount=total, gateway=gateway.name, status=Payment.Status.DECLINED
        )
        OrderEvent.objects.create(
            order=order,
            type=OrderEvent.Type.PAYMENT_DECLINED,
            actor=actor,
            data={"message": result.message},
        )
        return result
    payments.charge_track(gateway=gateway, reference=result.reference)
    try:
        OrderLine.objects.bulk_update(lines, ["unit_price", "unit_cost"])
        order.status = Order.Status.EXECUTED
        order.executed_at = now
        order.total = total
        order.save(update_fields=["status", "executed_at", "total", "updated_at"])
        OrderEvent.objects.create(order=order, type=OrderEvent.Type.EXECUTED, actor=actor)
        Payment.objects.create(
            order=order,
            amount=total,
            gateway=gateway.name,
            reference=result.reference,
            status=Payment.Status.APPROVED,
        )
        # Last, to hold the hot product rows as briefly as possible: locks them (pk order),
        # checks every line, lowers stock or raises InsufficientStock.
        products = stock_adjust(
            changes={line.product_id: -line.quantity for line in lines},
            reason=StockMovement.Reason.ORDER,
            actor=actor,
            order=order,
        )
        for line in lines:
            line.product = products[line.product_id]
        order._prefetched_objects_cache = {"lines": lines}
        sales_summary_record(order=order, sign=1)
    except BaseException:
        payments.charge_untrack(reference=result.reference)
        gateway.void(reference=result.reference)
        raise
    return None


@transaction.atomic
def order_refund(*, order: Order, actor) -> Order:
    """Refund an executed order: its stock comes back (reason `refund`), its approved payments
    are refunded through the gateway, and it leaves the sales figures.

    Locks the order, then its products in primary-key order. Raises OrderNotExecuted (409).
    """
    order = _lock(order)
    if order.status != Order.Status.EXECUTED:
        raise OrderNotExecuted()
    lines = list(order.lines.order_by("pk"))
    order.status = Order.Status.REFUNDED
    order.refunded_at = timezone.now()
    order.save(update_fields=["status", "refunded_at", "updated_at"])
    OrderEvent.objects.create(order=order, type=OrderEvent.Type.REFUNDED, actor=actor)
    stock_adjust(
        changes={line.product_id: line.quantity for line in lines},
        reason=StockMovement.Reason.REFUND,
        actor=actor,
        order=order,
    )
    gateway = payments.get_gateway()
    approved = list(order.payments.filter(status=Payment.Status.APPROVED))
    for payment in approved:
        payment.status = Payment.Status.REFUNDED
    Payment.objects.bulk_update(approved, ["status"])
    sales_summary_record(order=order, sign=-1)
    # The refund goes out only once the database agrees: never refund an order left executed.
    for payment in approved:
        transaction.on_commit(
            lambda p=payment: gateway.refund(reference=p.reference, amount=p.amount),
            robust=True,  # a gateway error is logged; the order stays refunded
        )
    return order


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


# Idempotent retries ------------------------------------------------------------------------


def idempotency_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_keys_purge() -> int:
    """Delete the remembered answers older than IDEMPOTENCY_KEY_TTL; returns how many."""
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def idempotent_call(
    *, user, key: str, fingerprint: str, handler: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `handler` (which returns (status, JSON-able body)) at most once per (user, key).

    Returns (status, body, replayed). The key row is claimed in the same transaction as the
    handler's writes: a concurrent duplicate waits on the row's unique index, then replays the
    stored answer, so a request never runs twice. Domain errors (402/409) are stored and
    replayed like successes; validation errors (400) and unexpected errors store nothing, so
    the key stays free. Keys older than IDEMPOTENCY_KEY_TTL are forgotten.
    Raises IdempotencyKeyReused (409) for a known key sent with a different request.
    """
    with payments.charges_voided_on_rollback():
        cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
        IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=cutoff).delete()
        record, created = IdempotencyKey.objects.get_or_create(
            user=user, key=key, defaults={"request_fingerprint": fingerprint}
        )
        if not created:
            if record.request_fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            return record.response_status, record.response_body, True
        try:
            status_code, body = handler()  # each service is its own savepoint
        except DomainError as exc:
            status_code, body = exc.status_code, exc.as_dict()
        record.response_status, record.response_body = status_code, body
        record.save(update_fields=["response_status", "response_body"])
    return status_code, body, False
