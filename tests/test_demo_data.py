"""The demo looks like a real shop's history: a ledger that reads in date order, orders whose
events agree with their timestamps, every category selling, three months with a rhythm."""

import io
from collections import Counter

import pytest
from django.core.management import call_command

from inventory.models import Category, Product, StockMovement
from orders.models import Order, OrderEvent, OrderLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())


def test_demo_stock_ledger_is_chronologically_consistent(demo):
    wrong = []
    for product in Product.objects.all():
        on_hand = 0
        for movement in StockMovement.objects.filter(product=product).order_by("created_at", "pk"):
            if movement.quantity_after != on_hand + movement.change:
                wrong.append((product.sku, movement.pk, on_hand, movement.change))
            on_hand = movement.quantity_after
            assert on_hand >= 0
        if on_hand != product.quantity:
            wrong.append((product.sku, "end", on_hand, product.quantity))

    assert wrong == []
    # The opening stock was received before the first sale.
    first_sale = StockMovement.objects.filter(reason="order").order_by("created_at").first()
    opening = StockMovement.objects.filter(reason="manual")
    assert opening.exists()
    assert max(opening.values_list("created_at", flat=True)) < first_sale.created_at


def test_demo_orders_events_agree_with_their_timestamps(demo):
    stamps = {
        OrderEvent.Type.CREATED: "created_at",
        OrderEvent.Type.EXECUTED: "executed_at",
        OrderEvent.Type.CANCELLED: "cancelled_at",
        OrderEvent.Type.REFUNDED: "refunded_at",
    }
    wrong = []
    for order in Order.objects.prefetch_related("events", "payments"):
        for event in order.events.all():
            column = stamps.get(event.type)
            if column and event.created_at != getattr(order, column):
                wrong.append((order.pk, event.type, event.created_at, getattr(order, column)))
            if event.created_at < order.created_at:
                wrong.append((order.pk, event.type, "before the order"))
        for attempt in order.payments.all():
            if not order.created_at <= attempt.created_at <= attempt.updated_at:
                wrong.append((order.pk, "payment", attempt.created_at))
        moved = StockMovement.objects.filter(order_id=order.pk)
        for movement in moved:
            if movement.created_at not in (order.executed_at, order.refunded_at):
                wrong.append((order.pk, "movement", movement.created_at))

    assert wrong == []
    # Order numbers follow the order they were placed in.
    ids = list(Order.objects.order_by("created_at", "pk").values_list("pk", flat=True))
    assert ids == sorted(ids)


def test_demo_sales_reach_every_category(demo):
    sold = set(
        OrderLine.objects.filter(order__status="executed").values_list(
            "product__category_id", flat=True
        )
    )

    assert sold == set(Category.objects.values_list("pk", flat=True))


def test_demo_history_has_three_months_a_trend_and_busier_weekends(demo):
    placed = sorted(Order.objects.values_list("created_at", flat=True))
    first = placed[0]
    weeks = Counter((when - first).days // 7 for when in placed)
    weekdays = Counter(when.weekday() for when in placed)

    assert (placed[-1] - first).days >= 85
    assert sum(weeks[w] for w in range(6, 12)) > 1.4 * sum(weeks[w] for w in range(6))
    assert weekdays[5] > weekdays[6] and weekdays[5] > weekdays[0]  # Saturdays busiest
    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert set(statuses) == {"pending", "executed", "cancelled", "refunded"}
