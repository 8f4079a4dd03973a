"""Writes of the sales summary: one order at a time, or a full rebuild from the order lines."""

# The SQL here is built only from our own table and column names (quoted) and SQL the ORM
# compiled; every value goes as a parameter.
# ruff: noqa: S608

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Sum, Value
from django.db.models.functions import Coalesce, Mod, TruncDate
from django.utils import timezone

from analytics.models import DailySalesTotal, ProductSalesSummary
from orders.models import Order, OrderLine

_ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=10, decimal_places=2))
_MONEY = DecimalField(max_digits=16, decimal_places=2)

_SUMMARY_COLUMNS = ("product_id", "period", "period_start", "units", "revenue_cents", "cost_cents")
_DAILY_COLUMNS = ("date", "shard", "orders", "units", "revenue", "cost")


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


def sales_day(moment: datetime) -> date:
    """The calendar day of an aware datetime in settings.TIME_ZONE (the reports' days)."""
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).date()


def period_starts(day: date) -> dict[str, date]:
    """The start of each summary period that holds `day`."""
    Period = ProductSalesSummary.Period
    return {
        Period.DAY: day,
        Period.WEEK: day - timedelta(days=day.weekday()),  # the ISO week's Monday
        Period.HALF_MONTH: day.replace(day=1 if day.day <= 15 else 16),
        Period.MONTH: day.replace(day=1),
        Period.QUARTER: day.replace(month=day.month - (day.month - 1) % 3, day=1),
        Period.YEAR: day.replace(month=1, day=1),
    }


def sales_summary_record(*, order: Order, sign: int) -> None:
    """Add (sign=1, on execution) or subtract (sign=-1, on refund) an order's lines.

    Call it inside the transaction that executes or refunds the order, after its lines carry
    their final unit_price and unit_cost: the summary then commits or rolls back with the
    order. Each row is changed by one atomic upsert, so concurrent executions never lose an
    update; the product rows it touches are already locked by the execution, and the day's
    totals are sharded by order id so executions of one day do not all wait on one row.
    The order's day is the day of `executed_at` in settings.TIME_ZONE, for a refund too.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    if order.executed_at is None:
        raise ValueError("the order has no executed_at")
    day = sales_day(order.executed_at)

    per_product: dict[int, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for line in order.lines.all():  # the caller's prefetched lines, when it has them
        figures = per_product[line.product_id]
        figures[0] += line.quantity
        figures[1] += line.unit_price * line.quantity
        figures[2] += (line.unit_cost or 0) * line.quantity
    if not per_product:
        return

    summary_params: list = []
    # Sorted by the unique key, so two transactions take the row locks in the same order.
    periods = sorted(period_starts(day).items())  # in the key's order
    for period, start in periods:
        for product_id in sorted(per_product):
            units, revenue, cost = per_product[product_id]
            summary_params += [product_id, period, start, sign * units]
            summary_params += [sign * int(revenue * 100), sign * int(cost * 100)]
    totals = [sum(f[i] for f in per_product.values()) for i in range(3)]
    daily_params = [day, order.pk % DailySalesTotal.SHARDS, sign, *(sign * t for t in totals)]

    # Inside order_execute: no savepoint round trips (any error fails the caller anyway).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            _upsert_sql(
                ProductSalesSummary._meta.db_table,
                _SUMMARY_COLUMNS,
                ("period", "period_start", "product_id"),
                len(periods) * len(per_product),
            ),
            summary_params,
        )
        cursor.execute(
            _upsert_sql(DailySalesTotal._meta.db_table, _DAILY_COLUMNS, ("date", "shard"), 1),
            daily_params,
        )


@dataclass(frozen=True)
class RebuildResult:
    """Rows of the stored summary that did not match the order lines (0 when all agreed)."""

    summary_rows_wrong: int
    daily_rows_wrong: int
    summary_rows: int
    daily_rows: int

    @property
    def differences(self) -> int:
        return self.summary_rows_wrong + self.daily_rows_wrong


def _executed_lines():
    day = TruncDate("order__executed_at", tzinfo=ZoneInfo(settings.TIME_ZONE))
    return (
        OrderLine.objects.filter(order__status=Order.Status.EXECUTED).annotate(day=day).order_by()
    )


def _figures():
    return {
        "units": Sum("quantity"),
        "revenue": Sum(F("unit_price") * F("quantity"), output_field=_MONEY),
        "cost": Sum(Coalesce("unit_cost", _ZERO) * F("quantity"), output_field=_MONEY),
    }


def _expected_summary_sql() -> tuple[str, tuple]:
    qs = _executed_lines().values("product_id", "day").annotate(**_figures())
    sql, params = qs.query.sql_with_params()
    return (
        f"SELECT q.product_id, 'day' AS period, q.day AS period_start, q.units, "
        f"{_cents('q.revenue')} AS revenue_cents, {_cents('q.cost')} AS cost_cents "
        f"FROM ({sql}) q",
        params,
    )


def _expected_daily_sql() -> tuple[str, tuple]:
    qs = (
        _executed_lines()
        .annotate(shard=Mod("order_id", DailySalesTotal.SHARDS))
        .values("day", "shard")
        .annotate(orders=Count("order_id", distinct=True), **_figures())
    )
    sql, params = qs.query.sql_with_params()
    return (
        f"SELECT q.day AS date, q.shard, q.orders, q.units, q.revenue, q.cost FROM ({sql}) q",
        params,
    )


def _start_of(period: str, column: str) -> str:
    """SQL for the start of the week, half month, month, quarter or year holding a date column,
    as a date."""
    if period == "half":  # the month's 1st, or its 16th from the 16th on
        month, day = _start_of("month", column), f"CAST(STRFTIME('%d', {column}) AS INTEGER)"
        if connection.vendor == "postgresql":
            day = f"EXTRACT(DAY FROM {column})"
            return f"CASE WHEN {day} <= 15 THEN {month} ELSE {month} + 15 END"
        return f"CASE WHEN {day} <= 15 THEN {month} ELSE DATE({month}, '+15 days') END"
    if connection.vendor == "postgresql":
        return f"CAST(DATE_TRUNC('{period}', {column}) AS date)"
    return {
        # 'weekday 0' moves on to the next Sunday (or stays on one): its Monday is 6 days back.
        "week": f"DATE({column}, 'weekday 0', '-6 days')",
        "month": f"DATE({column}, 'start of month')",
        "quarter": f"DATE({column}, 'start of month', "
        f"'-' || ((CAST(STRFTIME('%m', {column}) AS INTEGER) - 1) % 3) || ' months')",
        "year": f"DATE({column}, 'start of year')",
    }[period]


def _cents(column: str) -> str:
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def _count_mismatches(cursor, expected: str, stored: str, keys, values, money=()) -> int:
    """Rows in one table that the other lacks or holds with other figures (both ways); the
    `money` columns (decimals) are compared in cents."""
    cols = ", ".join([*keys, *(_cents(v) if v in money else v for v in values)])
    not_empty = " OR ".join(f"{v} <> 0" for v in values)
    total = 0
    for first, second in (
        (f"SELECT {cols} FROM {expected}", f"SELECT {cols} FROM {stored} WHERE {not_empty}"),
        (f"SELECT {cols} FROM {stored} WHERE {not_empty}", f"SELECT {cols} FROM {expected}"),
    ):
        cursor.execute(f"SELECT COUNT(*) FROM ({first} EXCEPT {second}) d")
        total += cursor.fetchone()[0]
    return total


@transaction.atomic
def sales_summary_rebuild(*, dry_run: bool = False) -> RebuildResult:
    """Recompute the summary from the executed order lines; rewrite it when it differs.

    Locks both summary tables against writers first (PostgreSQL: SHARE ROW EXCLUSIVE, which
    waits for executions in flight and holds new ones until this commits), so no execution
    is lost or counted twice. Reports how many stored rows differed; with dry_run nothing is
    written.
    """
    summary = _q(ProductSalesSummary._meta.db_table)
    daily = _q(DailySalesTotal._meta.db_table)
    exp_summary, exp_daily = _q("analytics_expected_summary"), _q("analytics_expected_daily")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {summary}, {daily} IN SHARE ROW EXCLUSIVE MODE")
        for table in (exp_summary, exp_daily):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        sql, params = _expected_summary_sql()
        cursor.execute(f"CREATE TEMPORARY TABLE {exp_summary} AS {sql}", params)
        # Each longer period rolled up from the day rows (weeks, half months) or the month rows.
        for period, source in (
            ("week", "day"),
            ("half", "day"),
            ("month", "day"),
            ("quarter", "month"),
            ("year", "month"),
        ):
            start = _start_of(period, "period_start")
            cursor.execute(
                f"INSERT INTO {exp_summary} SELECT product_id, '{period}', {start}, SUM(units), "
                f"SUM(revenue_cents), SUM(cost_cents) FROM {exp_summary} WHERE period = '{source}' "
                f"GROUP BY product_id, {start}"
            )
        sql, params = _expected_daily_sql()
        cursor.execute(f"CREATE TEMPORARY TABLE {exp_daily} AS {sql}", params)

        summary_wrong = _count_mismatches(
            cursor,
            exp_summary,
            summary,
            ("product_id", "period", "period_start"),
            ("units", "revenue_cents", "cost_cents"),
        )
        daily_wrong = _count_mismatches(
            cursor,
            exp_daily,
            daily,
            ("date", "shard"),
            ("orders", "units", "revenue", "cost"),
            money=("revenue", "cost"),
        )
        if not dry_run and summary_wrong:
            cols = ", ".join(_q(c) for c in _SUMMARY_COLUMNS)
            cursor.execute(f"DELETE FROM {summary}")
            # In date order, as executions append them: a range's rows sit together on disk.
            cursor.execute(
                f"INSERT INTO {summary} ({cols}) SELECT {cols} FROM {exp_summary} "
                "ORDER BY period, period_start, product_id"
            )
        if not dry_run and daily_wrong:
            cols = ", ".join(_q(c) for c in _DAILY_COLUMNS)
            cursor.execute(f"DELETE FROM {daily}")
            cursor.execute(f"INSERT INTO {daily} ({cols}) SELECT {cols} FROM {exp_daily}")
        if connection.vendor == "postgresql" and not dry_run and (summary_wrong or daily_wrong):
            cursor.execute(f"ANALYZE {summary}, {daily}")  # fresh statistics for the planner
        cursor.execute(f"SELECT COUNT(*) FROM {exp_summary}")
        summary_rows = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM {exp_daily}")
        daily_rows = cursor.fetchone()[0]
        for table in (exp_summary, exp_daily):
            cursor.execute(f"DROP TABLE {table}")
    return RebuildResult(
        summary_rows_wrong=summary_wrong,
        daily_rows_wrong=daily_wrong,
        summary_rows=summary_rows,
        daily_rows=daily_rows,
    )
