"""Demo orders for a new install (`seed_demo`, shop.demo, which makes the DEMO_CUSTOMERS).

Orders go through the real services (so stock, movements, payments and events are right),
then their dates are moved back over the last ~90 days so the analytics have a history.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from inventory.models import Category, Product, StockMovement
from inventory.services import stock_adjust
from orders import services
from orders.models import Order, OrderEvent, Payment

DEMO_CUSTOMERS = [
    ("alice@example.com", "Alice Martin"),
    ("bob@example.com", "Bob Schmidt"),
    ("chloe@example.com", "Chloé Rossi"),
    ("dan@example.com", "Dan Novak"),
]
COUNTRIES = ["FR", "DE", "IT", "ES", "NL", "BE", "PL", "GB", "US", "SE"]
EXECUTED, REFUNDED, CANCELLED, PENDING = 120, 6, 10, 8


def _fallback_catalog() -> None:
    """A few products when the inventory app's demo did not make any."""
    category = Category.objects.create(name="Demo goods")
    for n in range(1, 9):
        product = Product.objects.create(
            sku=f"DEMO-{n:03d}",
            name=f"Demo product {n}",
            category=category,
            price=Decimal(5 * n) + Decimal("0.90"),
            cost=Decimal(3 * n),
        )
        stock_adjust(changes={product.pk: 500}, reason=StockMovement.Reason.MANUAL)


def _backdate(order: Order, when) -> None:
    fields = {"created_at": when}
    if order.executed_at:
        fields["executed_at"] = when + timedelta(minutes=5)
    if order.cancelled_at:
        fields["cancelled_at"] = when + timedelta(hours=2)
    if order.refunded_at:
        fields["refunded_at"] = when + timedelta(days=3)
    Order.objects.filter(pk=order.pk).update(**fields)
    OrderEvent.objects.filter(order=order).update(created_at=when)
    Payment.objects.filter(order=order).update(created_at=when)
    StockMovement.objects.filter(order_id=order.pk).update(created_at=when)


def seed_orders(stdout, *, customers) -> None:
    """Orders of `customers` (the accounts of DEMO_CUSTOMERS, made by shop.demo)."""
    rng = random.Random(2026)  # noqa: S311 - the same demo every time, not a secret
    if not Product.objects.filter(is_active=True, quantity__gt=0).exists():
        _fallback_catalog()
    products = list(Product.objects.filter(is_active=True, quantity__gt=0).order_by("pk")[:60])
    now = timezone.now()
    plan = (
        ["executed"] * EXECUTED
        + ["refunded"] * REFUNDED
        + ["cancelled"] * CANCELLED
        + ["pending"] * PENDING
    )
    made = dict.fromkeys(["executed", "refunded", "cancelled", "pending"], 0)
    for target in plan:
        stock = dict(
            Product.objects.filter(pk__in=[p.pk for p in products]).values_list("pk", "quantity")
        )
        choice = [p for p in rng.sample(products, k=min(len(products), rng.randint(1, 3)))]
        items = [
            services.OrderItem(product=p, quantity=min(stock[p.pk], rng.randint(1, 3)))
            for p in choice
            if stock[p.pk] > 0
        ]
        if not items:
            continue
        for item in items:
            item.product.quantity = stock[item.product.pk]
        customer = rng.choice(customers)
        order = services.order_create(
            customer=customer, shipping_country=rng.choice(COUNTRIES), items=items
        )
        if target in ("executed", "refunded"):
            order = services.order_execute(order=order, actor=customer)
        if target == "refunded":
            order = services.order_refund(order=order, actor=None)
        if target == "pending" and not made["pending"]:
            try:  # one declined card, for the order's history in the admin
                services.order_execute(order=order, actor=customer, payment_token="decline-demo")  # noqa: S106
            except services.PaymentDeclined:
                pass
        if target == "cancelled":
            order = services.order_cancel(order=order, actor=customer)
        days = rng.uniform(0, 3) if target == "pending" else rng.uniform(0, 90)
        _backdate(order, now - timedelta(days=days, hours=rng.uniform(0, 12)))
        made[target] += 1
    stdout.write("Demo orders: " + ", ".join(f"{n} {status}" for status, n in made.items()))
