"""Order reads."""

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderLine


def order_list_for_customer(*, customer, status: str | None = None) -> QuerySet[Order]:
    """A customer's own orders, newest first, with lines and their products prefetched."""
    orders = Order.objects.filter(customer=customer).prefetch_related(
        Prefetch(
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
    )
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-created_at", "-id")
