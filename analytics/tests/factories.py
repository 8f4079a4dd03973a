"""Catalog and executed orders for the analytics tests (the orders app's services are not
used here: `executed_order` fixes prices and costs on the lines and records the summary, as
order_execute does)."""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from analytics.services import sales_summary_record
from orders.models import Order, OrderLine
from orders.tests.factories import CategoryFactory, ProductFactory  # noqa: F401


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(UserFactory, password=None)  # unusable: no slow hashing
    shipping_country = "FR"


def executed_order(items, *, at=None, status=Order.Status.EXECUTED, record=True) -> Order:
    """An order with lines [(product, quantity, unit_price, unit_cost)], executed at `at`.

    Other statuses make an order that never reaches the summary (pending, cancelled) or a
    refunded one (executed, recorded, then taken back out, as order_refund does).
    """
    at = at or timezone.now()
    order = OrderFactory(status=Order.Status.PENDING)
    total = Decimal(0)
    for product, quantity, unit_price, unit_cost in items:
        OrderLine.objects.create(
            order=order,
            product=product,
            quantity=quantity,
            unit_price=Decimal(unit_price),
            unit_cost=Decimal(unit_cost),
        )
        total += Decimal(unit_price) * quantity
    if status == Order.Status.PENDING:
        return order
    if status == Order.Status.CANCELLED:
        order.status, order.cancelled_at = status, at
        order.save()
        return order
    order.status, order.executed_at, order.total = Order.Status.EXECUTED, at, total
    order.save()
    if record:
        sales_summary_record(order=order, sign=1)
    if status == Order.Status.REFUNDED:
        refund(order)
    return order


def refund(order: Order) -> None:
    order.status, order.refunded_at = Order.Status.REFUNDED, timezone.now()
    order.save()
    sales_summary_record(order=order, sign=-1)
