"""Tells whoever keeps sales figures (analytics) that an order was executed or refunded.

orders imports no analytics: analytics registers its recorder here at start-up
(analytics.apps), and `order_sales_record` hands it plain figures, inside the caller's
transaction, so the figures commit or roll back with the order.
"""

from collections import defaultdict
from collections.abc import Callable

from shop.money import to_cents

_recorders: list[Callable[..., None]] = []


def sales_recorder_register(recorder: Callable[..., None]) -> None:
    """Have `recorder(*, executed_at, shard_key, products, sign)` called for every execution
    (sign 1) and refund (sign -1); `products`: (product_id, units, revenue_cents, cost_cents)
    tuples. Registering the same function again changes nothing."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def order_sales_figures(order) -> list[tuple[int, int, int, int]]:
    """(product_id, units, revenue_cents, cost_cents) per product of the order's lines, at
    the unit_price and unit_cost they carry (a missing cost counts as 0)."""
    per_product: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in order.lines.all():  # the caller's prefetched lines, when it has them
        figures = per_product[line.product_id]
        figures[0] += line.quantity
        figures[1] += to_cents(line.unit_price) * line.quantity
        figures[2] += to_cents(line.unit_cost or 0) * line.quantity
    return [(product_id, *figures) for product_id, figures in sorted(per_product.items())]


def order_sales_record(*, order, sign: int) -> None:
    """Record an executed order (sign=1) or take a refunded one back out (sign=-1).

    Call it inside the transaction that executes or refunds the order, after its lines carry
    their final unit_price and unit_cost. The sale is dated by `executed_at`, for a refund
    too. Raises ValueError for an order never executed.
    """
    if order.executed_at is None:
        raise ValueError("the order has no executed_at")
    products = order_sales_figures(order)
    for recorder in _recorders:
        recorder(executed_at=order.executed_at, shard_key=order.pk, products=products, sign=sign)
