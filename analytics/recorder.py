"""Writes one sale (or its refund) into the sales summary, from plain figures.

It knows no order: the orders app hands it the moment of the sale, a key that spreads the day's
totals over shards (the order id) and one (product_id, units, revenue_cents, cost_cents) tuple
per product.
analytics.apps registers `sales_record` with orders at start-up (orders.sales), so orders never
imports analytics.
"""

# The SQL is built only from our own table and column names (quoted); every value goes as a
# parameter.
# ruff: noqa: S608

from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction

from analytics.models import DailySalesTotal, ProductSalesSummary
from analytics.periods import period_starts, sales_day
from shop.money import from_cents

SUMMARY_COLUMNS = ("product_id", "period", "period_start", "units", "revenue_cents", "cost_cents")
DAILY_COLUMNS = ("date", "shard", "orders", "units", "revenue", "cost")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _upsert_sql(table: str, columns: tuple[str, ...], keys: tuple[str, ...], rows: int) -> str:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET col = col + EXCLUDED.col for the other columns.

    One statement, so two transactions adding to the same row never lose an update
    (PostgreSQL and SQLite both support it).
    """
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    added = [c for c in columns if c not in keys]
    return (
        f"INSERT INTO {_q(table)} ({', '.join(_q(c) for c in columns)}) "
        f"VALUES {', '.join([placeholders] * rows)} "
        f"ON CONFLICT ({', '.join(_q(k) for k in keys)}) DO UPDATE SET "
        + ", ".join(f"{_q(c)} = {_q(table)}.{_q(c)} + EXCLUDED.{_q(c)}" for c in added)
    )


def sales_record(
    *,
    executed_at: datetime,
    shard_key: int,
    products: Sequence[tuple[int, int, int, int]],
    sign: int,
) -> None:
    """Add (sign=1, an execution) or subtract (sign=-1, its refund) one sale made at
    `executed_at` (an aware datetime; its day is sales_day's, in settings.TIME_ZONE).

    `products`: one (product_id, units, revenue_cents, cost_cents) per product sold, each
    product once. `shard_key` (the order id) picks the shard of the day's totals, which count
    one executed order. Call it inside the transaction of the execution or refund: the summary
    then commits or rolls back with it. Each row is changed by one atomic upsert, so
    concurrent executions never lose an update; rows are written in the unique key's order, so
    two transactions take their row locks in the same order. Raises ValueError for a sign
    other than 1 or -1; writes nothing for no products.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    if not products:
        return
    day = sales_day(executed_at)
    by_product = sorted(products)
    periods = sorted(period_starts(day).items())  # in the key's order: (period, start)
    summary_params: list = []
    for period, start in periods:
        for product_id, units, revenue, cost in by_product:
            summary_params += [product_id, period, start, sign * units]
            summary_params += [sign * revenue, sign * cost]
    units, revenue, cost = (sum(p[i] for p in by_product) for i in (1, 2, 3))
    daily_params = [
        day,
        shard_key % DailySalesTotal.SHARDS,
        sign,
        sign * units,
        from_cents(sign * revenue),
        from_cents(sign * cost),
    ]
    # Inside the caller's transaction: no savepoint round trips (any error fails it anyway).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            _upsert_sql(
                ProductSalesSummary._meta.db_table,
                SUMMARY_COLUMNS,
                ("period", "period_start", "product_id"),
                len(periods) * len(by_product),
            ),
            summary_params,
        )
        cursor.execute(
            _upsert_sql(DailySalesTotal._meta.db_table, DAILY_COLUMNS, ("date", "shard"), 1),
            daily_params,
        )
