"""The report queries. Every figure is summed in the database from the sales summary.

Only executed orders are in the summary (a refund takes its order back out), each line with
the price and cost it was executed at. Date bounds are inclusive days of `executed_at` in
settings.TIME_ZONE; `None` leaves that side open. A range is read as the fewest summary rows
whose sum is exactly that range, adding and subtracting years, quarters, months, ISO weeks and
days (analytics.periods.cover): a calendar year is one row per product, the last 30 days a
month less a day. So the cost of a report grows with the products sold, not with the number of
order lines.

Every report reads from the read replica when one is configured and answers (`replica_reads`,
shop.replica), else from the primary; raw SQL asks the router for that database.

Per-product figures are integers (money in cents, shares in hundredths of a percent): the API
shapes its answers straight from sales_by_product's tuples and their shares
(product_sales_rows, CategorySales.rows), and the admin gets `ProductSales` named tuples (with
Decimal properties) for what it shows. A report may list every product; building an object
per product was a seventh of its time in a gunicorn worker (py-spy: 14 %).
"""

import operator
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property, reduce
from typing import NamedTuple

from django.db import connections, router, transaction
from django.db.models import Max, Min, Q, Sum
from django.db.models.functions import Coalesce

from analytics import periods
from analytics.models import DailySalesTotal, ProductSalesSummary
from analytics.periods import cover
from inventory.models import Category, Product
from inventory.selectors import low_stock_products
from shop.money import from_cents
from shop.replica import replica_reads

ZERO = Decimal("0.00")
REPORT_WORK_MEM = "32MB"  # PostgreSQL: ~13 MB holds the per-product sums of 10,000 products


@dataclass(frozen=True)
class ProfitSummary:
    revenue: Decimal
    cost: Decimal
    executed_orders: int
    units_sold: int

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        """Profit as a share of revenue, out of 100 (None when nothing was sold)."""
        if not self.revenue:
            return None
        return (self.profit * 100 / self.revenue).quantize(Decimal("0.01"))


def hundredths(values: Sequence[int]) -> list[int]:
    """Each value's share of their sum (integers: units or cents), in hundredths of a percent
    (0 … 10000), adding up to exactly 10000; all zeros when the sum is zero.

    Largest remainder method: every share is rounded down to the hundredth, and the hundredths
    left over go to the values that lost most in the rounding (the first one on a tie).
    """
    total = sum(values)
    if total <= 0:
        return [0] * len(values)
    scaled = [v * 10000 for v in values]  # in hundredths of a percent, times the total
    floors = [s // total for s in scaled]
    left = 10000 - sum(floors)
    if left:
        # sorted() is stable, also with reverse=True: the first value wins a tie.
        remainders = [s % total for s in scaled]
        for i in sorted(range(len(scaled)), key=remainders.__getitem__, reverse=True)[:left]:
            floors[i] += 1
    return floors


# Hundredths of a percent as a Decimal out of 100 (1234 -> 12.34), and as the API's text.
PERCENTS = tuple(from_cents(n) for n in range(10001))
PERCENT_TEXTS = tuple(str(percent) for percent in PERCENTS)


class ProductSales(NamedTuple):
    """One product's sales over a range, money in integer cents, and its shares in hundredths
    of a percent: of all units and of all revenue (set by product_sales), of its category's
    revenue (set by category_sales). Built straight from a row of sales_by_product: a report
    may list every product, and a tuple is the cheapest row to build."""

    product_id: int
    product_name: str
    category_id: int
    category_name: str
    units_sold: int
    revenue_cents: int
    cost_cents: int
    units_share: int = 0
    revenue_share: int = 0
    category_share: int = 0

    @property
    def revenue(self) -> Decimal:
        return from_cents(self.revenue_cents)

    @property
    def cost(self) -> Decimal:
        return from_cents(self.cost_cents)

    @property
    def percent_of_units(self) -> Decimal:
        return PERCENTS[self.units_share]

    @property
    def percent_of_revenue(self) -> Decimal:
        return PERCENTS[self.revenue_share]

    @property
    def percent_of_category(self) -> Decimal:
        return PERCENTS[self.category_share]


@dataclass
class CategorySales:
    """One category's sales over a range; revenue_share: of all revenue, in hundredths of a
    percent. `rows`: its products' rows of sales_by_product (highest revenue first) and
    `shares`: each one's share of the category's revenue, which `products` makes into
    ProductSales when asked (the API shapes the rows straight away)."""

    category_id: int
    category_name: str
    units_sold: int = 0
    revenue_cents: int = 0
    cost_cents: int = 0
    revenue_share: int = 0
    rows: list[tuple] = field(default_factory=list, repr=False)
    shares: list[int] = field(default_factory=list, repr=False)

    revenue = ProductSales.revenue  # as Decimals, from revenue_cents and cost_cents
    cost = ProductSales.cost

    @property
    def profit_cents(self) -> int:
        return self.revenue_cents - self.cost_cents

    @property
    def profit(self) -> Decimal:
        return from_cents(self.profit_cents)

    @property
    def percent_of_revenue(self) -> Decimal:
        return PERCENTS[self.revenue_share]

    @cached_property
    def products(self) -> list[ProductSales]:
        return self.first_products(len(self.rows))

    def first_products(self, count: int) -> list[ProductSales]:
        """The first `count` of its products (the best sellers), built alone."""
        return [
            ProductSales(*row, category_share=share)
            for row, share in zip(self.rows[:count], self.shares, strict=False)
        ]


def _summary_filter(date_from: date | None, date_to: date | None) -> tuple[Q | None, Q | None]:
    """Filters of the summary rows whose sum is exactly [date_from, date_to]: (rows to add,
    rows to subtract), each None when there are none. Open or far bounds are brought in to
    the years the summary holds."""
    years = ProductSalesSummary.objects.filter(period=periods.YEAR).aggregate(
        first=Min("period_start"), last=Max("period_start")
    )
    if years["first"] is None:
        return None, None  # nothing sold yet
    first = max(date_from or years["first"], years["first"])
    last = min(date_to or date.max, years["last"].replace(month=12, day=31))
    if first > last:
        return None, None
    return tuple(
        reduce(
            operator.or_,
            (Q(period=p, period_start__in=sorted(starts)) for p, starts in sorted(rows.items())),
        )
        if rows
        else None
        for rows in cover(first, last)
    )


def _bounds(field: str, date_from: date | None, date_to: date | None) -> dict:
    bounds = {}
    if date_from is not None:
        bounds[f"{field}__gte"] = date_from
    if date_to is not None:
        bounds[f"{field}__lte"] = date_to
    return bounds


def _sums(*fields: str) -> dict:
    return {f"total_{f}": Coalesce(Sum(f), 0 if f in ("units", "orders") else ZERO) for f in fields}


@replica_reads()
def profit_summary(*, date_from: date | None = None, date_to: date | None = None) -> ProfitSummary:
    """Revenue, cost, executed orders and units sold over the range (zeros when none)."""
    totals = DailySalesTotal.objects.filter(**_bounds("date", date_from, date_to)).aggregate(
        **_sums("orders", "units", "revenue", "cost")
    )
    return ProfitSummary(
        revenue=totals["total_revenue"],
        cost=totals["total_cost"],
        executed_orders=totals["total_orders"],
        units_sold=totals["total_units"],
    )


@replica_reads()
def sales_per_day(*, date_from: date, date_to: date) -> list[dict]:
    """Every day of the range, with no sales as zeros: date, orders, units, revenue, cost,
    profit."""
    rows = {
        row["date"]: row
        for row in DailySalesTotal.objects.filter(date__gte=date_from, date__lte=date_to)
        .values("date")
        .annotate(**_sums("orders", "units", "revenue", "cost"))
        .order_by()
    }
    days = []
    # Counted, not stepped to date_to + 1 day: that would overflow at 9999-12-31 (a 500).
    for offset in range((date_to - date_from).days + 1):
        day = date_from + timedelta(days=offset)
        row = rows.get(day, {})
        revenue, cost = row.get("total_revenue", ZERO), row.get("total_cost", ZERO)
        days.append(
            {
                "date": day,
                "orders": row.get("total_orders", 0),
                "units": row.get("total_units", 0),
                "revenue": revenue,
                "cost": cost,
                "profit": revenue - cost,
            }
        )
    return days


def _summed(column: str) -> str:
    """SQL summing an integer column of the summary, as an integer (PostgreSQL's SUM of a
    BIGINT is a NUMERIC)."""
    return f"CAST(SUM({column}) AS BIGINT)"


@replica_reads()
def sales_by_product(
    *, date_from: date | None = None, date_to: date | None = None, category_names: bool = True
) -> list[tuple]:
    """Each product sold in the range, highest revenue first (then by id), as plain tuples
    (product_id, product_name, category_id, category_name, units, revenue cents, cost cents):
    ProductSales' first fields, which product_sales and category_sales complete. Without
    `category_names`, category_name is None (and the category table is not read).

    One query: the summary rows are summed per product first (the rows `_summary_filter`
    subtracts with their sign turned), and only those sums are joined to the product and
    category names (a join before the sum would drag the names through every summary row).
    """
    added, subtracted = _summary_filter(date_from, date_to)
    if added is None:
        return []
    columns = ("product_id", "units", "revenue_cents", "cost_cents")
    rows, params = (
        ProductSalesSummary.objects.filter(added).values_list(*columns).query.sql_with_params()
    )
    if subtracted is not None:
        minus, minus_params = (
            ProductSalesSummary.objects.filter(subtracted)
            .values_list(*columns)
            .query.sql_with_params()
        )
        negated = "SELECT product_id, -units, -revenue_cents, -cost_cents"
        rows = f"{rows} UNION ALL {negated} FROM ({minus}) m"  # noqa: S608
        params += minus_params
    category_name, joins = "NULL", f"JOIN {Product._meta.db_table} p ON p.id = s.product_id"
    if category_names:
        category_name = "c.name"
        joins += f" JOIN {Category._meta.db_table} c ON c.id = p.category_id"
    connection = connections[router.db_for_read(ProductSalesSummary)]
    units = _summed("units")
    # Only our own table names and the ORM's compiled SQL go into the string; values stay
    # parameters.
    query = (
        f"SELECT s.product_id, p.name, p.category_id, {category_name}, "  # noqa: S608
        "s.units, s.revenue, s.cost "
        f"FROM (SELECT product_id, {units} AS units, "
        f"{_summed('revenue_cents')} AS revenue, "
        f"{_summed('cost_cents')} AS cost "
        f"FROM ({rows}) r GROUP BY product_id HAVING {units} > 0) s "
        f"{joins} ORDER BY s.revenue DESC, s.product_id"
    )
    postgres = connection.vendor == "postgresql"
    in_transaction = transaction.atomic(using=connection.alias) if postgres else nullcontext()
    with in_transaction, connection.cursor() as cursor:
        if postgres:
            # One hash-aggregate group per product: let it stay in memory, not spill to disk.
            # No parallel workers: gathering and merging their partial sums of every product
            # cost more than they saved on ~100,000 summary rows (a third slower on two
            # cores), and took CPU from the requests served alongside.
            cursor.execute(
                "SELECT set_config('work_mem', %s, true), "
                "set_config('max_parallel_workers_per_gather', '0', true)",
                [REPORT_WORK_MEM],
            )
        cursor.execute(query, params)
        return cursor.fetchall()


def product_sales_rows(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int | None = None,
    rows: list[tuple] | None = None,
    category_names: bool = True,
) -> tuple[list[tuple], list[int], list[int]]:
    """sales_by_product's rows (the first `limit` of them), with each one's share of all units
    and of all revenue in hundredths of a percent, of every product sold also when `limit`
    keeps only the first ones: (rows, units shares, revenue shares). `rows`: an already
    fetched sales_by_product."""
    if rows is None:
        rows = sales_by_product(date_from=date_from, date_to=date_to, category_names=category_names)
    units = hundredths([row[4] for row in rows])
    revenue = hundredths([row[5] for row in rows])
    return rows[:limit], units[:limit], revenue[:limit]


def product_sales(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int | None = None,
    rows: list[tuple] | None = None,
) -> list[ProductSales]:
    """product_sales_rows as ProductSales, with their units_share and revenue_share."""
    rows, units, revenue = product_sales_rows(
        date_from=date_from, date_to=date_to, limit=limit, rows=rows
    )
    return [ProductSales(*row, u, r) for row, u, r in zip(rows, units, revenue, strict=True)]


@replica_reads()
def category_sales(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    rows: list[tuple] | None = None,
) -> list[CategorySales]:
    """Each category with sales in the range, highest revenue first (then by name), with its
    revenue_share, its products' rows and their shares of its revenue. Grouped from
    sales_by_product's per-product sums (already summed in the database); the categories'
    names from those rows when they carry them, else in one more query.
    `rows`: an already fetched sales_by_product."""
    if rows is None:
        rows = sales_by_product(date_from=date_from, date_to=date_to, category_names=False)
    members: dict[int, list[tuple]] = {}
    for row in rows:  # highest revenue first, so each category's products are in order too
        members.setdefault(row[2], []).append(row)
    if rows and rows[0][3] is not None:  # fetched with category_names (the dashboard)
        names = {category_id: products[0][3] for category_id, products in members.items()}
    else:
        names = dict(Category.objects.filter(pk__in=members).values_list("pk", "name"))
    categories = []
    for category_id, products in members.items():
        revenue = [row[5] for row in products]
        categories.append(
            CategorySales(
                category_id,
                names[category_id],
                units_sold=sum(row[4] for row in products),
                revenue_cents=sum(revenue),
                cost_cents=sum(row[6] for row in products),
                rows=products,
                shares=hundredths(revenue),
            )
        )
    categories.sort(key=lambda c: (-c.revenue_cents, c.category_name))
    for category, share in zip(
        categories, hundredths([c.revenue_cents for c in categories]), strict=True
    ):
        category.revenue_share = share
    return categories


@replica_reads()
def dashboard(
    *, date_from: date, date_to: date, top_products: int = 10, low_stock_limit: int = 20
) -> dict:
    """Everything the Analysts' dashboard shows: summary, days, the top products (with their
    shares of all products) and how many products sold, categories (with per-product shares),
    low stock. The per-product sums are queried once for both products and categories."""
    rows = sales_by_product(date_from=date_from, date_to=date_to)
    return {
        "summary": profit_summary(date_from=date_from, date_to=date_to),
        "days": sales_per_day(date_from=date_from, date_to=date_to),
        "products": product_sales(rows=rows, limit=top_products),
        "product_count": len(rows),
        "categories": category_sales(rows=rows),
        **_low_stock(low_stock_limit),
    }


def _low_stock(limit: int) -> dict:
    """The first `limit` products to restock, and how many more there are (counted only when
    the list is cut)."""
    shown = list(low_stock_products(limit=limit))
    more = low_stock_products().count() - len(shown) if len(shown) == limit else 0
    return {"low_stock": shown, "low_stock_more": more}
