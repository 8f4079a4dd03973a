"""Order reads."""

from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderLine


def order_total(order: Order) -> Decimal:
    """What an order costs: a pending order at its products' current prices (what executing
    it would charge), any other at the total it was executed at. Reads the order's lines and
    their products (prefetch them for a list: order_lines_prefetch)."""
    if order.status != Order.Status.PENDING:
        return order.total
    return sum((line.product.price * line.quantity for line in order.lines.all()), Decimal("0.00"))


def order_lines_prefetch() -> Prefetch:
    """The lines of a list of orders with what order_total and the API read of them."""
    return Prefetch(
        "lines",
        queryset=OrderLine.objects.select_related("product").only(
            "id",
            "order_id",
            "quantity",
            "unit_price",
            "product__id",
            "product__name",
            "product__price",
        ),
    )


def order_list_for_customer(*, customer, status: str | None = None) -> QuerySet[Order]:
    """A customer's own orders, newest first, with lines and their products prefetched."""
    orders = Order.objects.filter(customer=customer).prefetch_related(order_lines_prefetch())
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-created_at", "-id")
