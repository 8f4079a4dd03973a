from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        EXECUTED = "executed", "Executed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    shipping_country = CountryField()
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="order_customer_created_idx"),
            models.Index(fields=["status", "executed_at"], name="order_status_executed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0), name="orders_order_total_not_negative"
            ),
        ]

    def __str__(self):
        return f"Order #{self.pk}"


class OrderLine(models.Model):
    """One product in an order. unit_price and unit_cost are the product's when the line was
    placed or last edited, and fixed at the product's then current ones at execution."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # PROTECT: a product that has ever been ordered cannot be deleted, by the database itself.
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    unit_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "product"], name="orders_line_one_per_product"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orders_line_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_id}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Payment(models.Model):
    """A payment attempt: one charge of an order's total through the gateway, and what became of
    the money. The row is committed *before* the gateway is called, so an attempt whose answer
    was lost (a time-out, a process killed, a connection dropped at commit) is still known and
    `reconcile_payments` settles it. Every change of state is also an order event.
    """

    class State(models.TextChoices):
        STARTED = "started", "Started"  # recorded; the charge's outcome is not known yet
        APPROVED = "approved", "Approved"  # charged, but the order was not executed: to void
        CAPTURED = "captured", "Captured"  # the order was executed with it
        DECLINED = "declined", "Declined"
        VOIDED = "voided", "Voided"
        FAILED = "failed", "Failed"  # the gateway has no charge under its key
        REFUND_PENDING = "refund_pending", "Refund pending"
        REFUNDED = "refunded", "Refunded"

    UNFINISHED = (State.STARTED, State.APPROVED, State.REFUND_PENDING)

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    gateway = models.CharField(max_length=100)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    # Sent to the gateway with the charge: a charge retried with it is never made twice.
    idempotency_key = models.CharField(max_length=64, unique=True)
    # Digest of (account, the request's Idempotency-Key header): a retry of the same request
    # resumes this attempt instead of starting another.
    request_key = models.CharField(max_length=64, blank=True, db_index=True)
    reference = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    # Until then a request may still be working on it: no other execution of the order starts,
    # and the reconciler leaves it alone.
    in_flight_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "payment attempt"
        indexes = [
            models.Index(
                fields=["in_flight_until"],
                condition=Q(state__in=["started", "approved", "refund_pending"]),
                name="payment_unfinished_idx",
            ),
        ]

    def __str__(self):
        return f"{self.gateway} {self.idempotency_key} {self.amount} ({self.state})"

    @property
    def refund_key(self) -> str:
        """The gateway idempotency key of this attempt's refund."""
        return f"refund-{self.idempotency_key}"


class OrderEvent(models.Model):
    """The order's history: one row for each state change (who, what, when)."""

    class Type(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        EXECUTED = "executed", "Executed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        PAYMENT_DECLINED = "payment_declined", "Payment declined"
        PAYMENT = "payment", "Payment attempt"  # data: attempt, state (the new one), error

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order_id} {self.type}"


class IdempotencyKey(models.Model):
    """A remembered answer to a POST sent with an Idempotency-Key header, per account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="orders_idempotency_user_key"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"
