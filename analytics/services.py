"""The full rebuild of the sales summary from the order lines (and the former per-order entry
point). analytics may import orders (no app imports analytics); one sale at a time is written
by analytics.recorder, which orders calls through orders.sales."""

# The SQL here is built only from our own table and column names (quoted) and SQL the ORM
# compiled; every value goes as a parameter.
# ruff: noqa: S608

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Sum, Value
from django.db.models.functions import Coalesce, Mod, TruncDate

from analytics.models import DailySalesTotal, ProductSalesSummary
from analytics.recorder import DAILY_COLUMNS, SUMMARY_COLUMNS
from analytics.rollup import summary_roll_up
from orders.models import Order, OrderLine
from orders.sales import order_sales_record

_ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=10, decimal_places=2))
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def sales_summary_record(*, order: Order, sign: int) -> None:
    """Add (sign=1) or subtract (sign=-1) an executed order: the former entry point, kept for
    callers not yet moved to orders.sales.order_sales_record, which it calls (and which hands
    analytics.recorder.sales_record the order's plain figures)."""
    order_sales_record(order=order, sign=sign)


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


def _cents(column: str) -> str:
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def _count_mismatches(cursor, expected: str, stored: str, keys, values, money=()) -> int:
    """Keys whose row one table lacks or holds with other figures than the other (each key
    counted once, however it differs); the `money` columns (decimals) are compared in
    cents, and stored rows of zeros count as absent."""
    cols = ", ".join([*keys, *(_cents(v) if v in money else v for v in values)])
    key_cols = ", ".join(keys)
    not_empty = " OR ".join(f"{v} <> 0" for v in values)
    first = f"SELECT {cols} FROM {expected}"
    second = f"SELECT {cols} FROM {stored} WHERE {not_empty}"
    cursor.execute(
        f"SELECT COUNT(*) FROM (SELECT {key_cols} FROM ({first} EXCEPT {second}) a "
        f"UNION SELECT {key_cols} FROM ({second} EXCEPT {first}) b) d"
    )
    return cursor.fetchone()[0]


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
        summary_roll_up(cursor, table=exp_summary, quote=lambda name: name)
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
            cols = ", ".join(_q(c) for c in SUMMARY_COLUMNS)
            cursor.execute(f"DELETE FROM {summary}")
            # In date order, as executions append them: a range's rows sit together on disk.
            cursor.execute(
                f"INSERT INTO {summary} ({cols}) SELECT {cols} FROM {exp_summary} "
                "ORDER BY period, period_start, product_id"
            )
        if not dry_run and daily_wrong:
            cols = ", ".join(_q(c) for c in DAILY_COLUMNS)
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
