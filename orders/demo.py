"""Demo orders for a new install (`seed_demo`, shop.demo, which makes the DEMO_CUSTOMERS).

Three months of a small shop that grows: more orders each week, busier on Fridays and
Saturdays, evenings more than mornings, every category selling. Everything goes through the
real services (stock, movements, payments, events), one step at a time in the order the steps
happened: an order placed, executed minutes later, now and then cancelled or refunded days
later. Each step's rows are then dated at that step's time, so the stock ledger reads in date
order and each order's events agree with its timestamps.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from inventory.models import Category, Product, StockMovement
from inventory.services import InsufficientStock, stock_adjust
from orders import services
from orders.models import Order, OrderEvent, Payment

DEMO_CUSTOMERS = [
    ("alice@example.com", "Alice Martin"),
    ("bob@example.com", "Bob Schmidt"),
    ("chloe@example.com", "Chloé Rossi"),
    ("dan@example.com", "Dan Novak"),
]
COUNTRIES = ["FR", "DE", "IT", "ES", "NL", "BE", "PL", "GB", "US", "SE"]
HISTORY_DAYS = 90
# Orders a day grow from START_RATE to END_RATE over the history, times the weekday's factor.
START_RATE, END_RATE = 0.8, 2.2
WEEKDAY = [0.8, 0.9, 1.0, 1.0, 1.3, 1.5, 0.7]  # Monday .. Sunday
HOURS = range(7, 23)
HOUR_WEIGHTS = [1, 2, 3, 3, 4, 5, 4, 3, 3, 4, 5, 7, 9, 9, 7, 4]  # 7:00 .. 22:00
CANCEL_SHARE, REFUND_SHARE = 0.07, 0.05
PENDING_HOURS = 72  # of the orders placed this recently, most are still pending


@dataclass(order=True)
class Step:
    when: datetime
    kind: str = field(compare=False)  # place, execute, cancel, refund, decline
    plan: "Plan" = field(compare=False)


@dataclass
class Plan:
    customer: object
    country: str
    order: Order | None = None


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


def _last_ids() -> dict[str, int]:
    return {
        "event": OrderEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "payment": Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "movement": StockMovement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


def _date_step(order: Order, when: datetime, since: dict[str, int], column: str | None) -> None:
    """Date what one step wrote at `when`: its events, attempts and movements (rows after
    `since`), the attempts it changed, and the order's own timestamp `column`."""
    OrderEvent.objects.filter(pk__gt=since["event"]).update(created_at=when)
    Payment.objects.filter(pk__gt=since["payment"]).update(created_at=when)
    Payment.objects.filter(order=order).filter(updated_at__gt=when).update(
        updated_at=when, in_flight_until=when
    )
    StockMovement.objects.filter(pk__gt=since["movement"]).update(created_at=when)
    if column:
        Order.objects.filter(pk=order.pk).update(**{column: when, "updated_at": when})


def _schedule(rng: random.Random, customers, now: datetime) -> list[Step]:
    """Every step of the history, in time order."""
    steps: list[Step] = []
    first_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day -= timedelta(days=HISTORY_DAYS)
    for day in range(HISTORY_DAYS + 1):
        date = first_day + timedelta(days=day)
        rate = START_RATE + (END_RATE - START_RATE) * day / HISTORY_DAYS
        expected = rate * WEEKDAY[date.weekday()]
        count = int(expected) + (rng.random() < expected - int(expected))
        for _ in range(count):
            hour = rng.choices(HOURS, weights=HOUR_WEIGHTS)[0]
            placed = date + timedelta(hours=hour, minutes=rng.randrange(60))
            if placed > now - timedelta(minutes=30):
                continue
            plan = Plan(customer=rng.choice(customers), country=rng.choice(COUNTRIES))
            steps.append(Step(placed, "place", plan))
            age = now - placed
            if age < timedelta(hours=PENDING_HOURS) and rng.random() < 0.6:
                continue  # still pending
            if rng.random() < CANCEL_SHARE:
                steps.append(Step(placed + timedelta(hours=rng.uniform(1, 20)), "cancel", plan))
                continue
            executed = placed + timedelta(minutes=rng.uniform(2, 25))
            steps.append(Step(executed, "execute", plan))
            refunded = executed + timedelta(days=rng.uniform(2, 10))
            if refunded < now - timedelta(hours=1) and rng.random() < REFUND_SHARE:
                steps.append(Step(refunded, "refund", plan))
    pending = [s for s in steps if s.kind == "place" and now - s.when < timedelta(hours=24)]
    if pending:  # one card declined, for an order's history in the admin
        steps.append(Step(pending[0].when + timedelta(minutes=3), "decline", pending[0].plan))
    return sorted(steps)


def _items(rng: random.Random, stock: dict[int, int], by_category: dict[int, list[Product]]):
    """One to three products with stock, from as many categories (every category sells)."""
    categories = rng.sample(sorted(by_category), k=min(len(by_category), rng.choice([1, 1, 2, 3])))
    items = []
    for category in categories:
        available = [p for p in by_category[category] if stock[p.pk] > 0]
        if available:
            product = rng.choice(available)
            product.quantity = stock[product.pk]  # what order_create checks against
            quantity = min(stock[product.pk], rng.choice([1, 1, 1, 2, 2, 3]))
            items.append(services.OrderItem(product=product, quantity=quantity))
    return items


def seed_orders(stdout, *, customers) -> None:
    """Orders of `customers` (the accounts of DEMO_CUSTOMERS, made by shop.demo) over the last
    HISTORY_DAYS days."""
    rng = random.Random(2026)  # noqa: S311 - the same demo every time, not a secret
    if not Product.objects.filter(is_active=True, quantity__gt=0).exists():
        _fallback_catalog()
    products = list(Product.objects.filter(is_active=True).order_by("pk"))
    stock = {p.pk: p.quantity for p in products}
    by_category: dict[int, list[Product]] = defaultdict(list)
    for product in products:
        by_category[product.category_id].append(product)
    made: dict[str, int] = defaultdict(int)
    for step in _schedule(rng, customers, timezone.now()):
        plan, since = step.plan, _last_ids()
        if step.kind == "place":
            items = _items(rng, stock, by_category)
            if not items:
                continue
            plan.order = services.order_create(
                customer=plan.customer, shipping_country=plan.country, items=items
            )
            _date_step(plan.order, step.when, since, "created_at")
            made["placed"] += 1
        elif plan.order is None:
            continue
        elif step.kind == "execute":
            try:
                services.order_execute(order=plan.order, actor=plan.customer)
            except InsufficientStock:  # sold out meanwhile: the customer gives up
                services.order_cancel(order=plan.order, actor=plan.customer)
                _date_step(plan.order, step.when, since, "cancelled_at")
                continue
            for line in plan.order.lines.all():
                stock[line.product_id] -= line.quantity
            _date_step(plan.order, step.when, since, "executed_at")
        elif step.kind == "cancel":
            services.order_cancel(order=plan.order, actor=plan.customer)
            _date_step(plan.order, step.when, since, "cancelled_at")
        elif step.kind == "refund":
            services.order_refund(order=plan.order, actor=None)
            # Send the gateway refund now, at this step's time (order_refund leaves it to
            # after the commit, which for the demo is the end of the whole seed).
            attempts = plan.order.payments.filter(state=Payment.State.REFUND_PENDING)
            services.payment_refunds_send(attempt_ids=[a.pk for a in attempts])
            for line in plan.order.lines.all():
                stock[line.product_id] += line.quantity
            _date_step(plan.order, step.when, since, "refunded_at")
        elif step.kind == "decline":
            try:
                services.order_execute(
                    order=plan.order,
                    actor=plan.customer,
                    payment_token="decline-demo",  # noqa: S106 - the test gateway's decline
                )
            except services.PaymentDeclined:
                pass
            _date_step(plan.order, step.when, since, None)
    statuses = Order.objects.values_list("status", flat=True)
    counts = {s: list(statuses).count(s) for s in Order.Status.values}
    stdout.write("Demo orders: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
