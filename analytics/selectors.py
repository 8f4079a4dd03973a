"""The report queries. Every figure is summed in the database from the sales summary.

Only executed orders are in the summary (a refund takes its order back out), each line with
the price and cost it was executed at. Date bounds are inclusive days of `executed_at` in
settings.TIME_ZONE; `None` leaves that side open. A range is read as its whole months (the
summary's month rows), then the whole ISO weeks in the parts left at its edges (week rows),
then the few days left over (day rows), so the cost of a report grows with products × months,
not with the number of order lines.
"""

import operator
from calendar import monthrange
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import reduce

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from analytics.models import DailySalesTotal, ProductSalesSummary
from inventory.models import Category, Product

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
REPORT_WORK_MEM = "32MB"  # PostgreSQL: ~13 MB holds the per-product sums of 10,000 products
Period = ProductSalesSummary.Period


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


def _money(value) -> Decimal:
    """A sum from a raw cursor as Decimal with two places (SQLite may give a float)."""
    if type(value) is Decimal:
        return value  # PostgreSQL's sum of numeric(16, 2) columns: two places already
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT)


def shares(values: list[Decimal | int]) -> list[Decimal]:
    """Each value's share of their sum, out of 100 with two places, adding up to exactly 100.

    Largest remainder method: every share is rounded down to the hundredth, and the hundredths
    left over go to the values that lost most in the rounding (the first one on a tie).
    All zeros when the sum is zero.
    """
    scaled = [int(v * 100) * 10000 for v in values]  # cents × 10,000 hundredths of a percent
    total = sum(scaled) // 10000
    if total <= 0:
        return [ZERO] * len(scaled)
    floors = [s // total for s in scaled]
    left = 10000 - sum(floors)
    if left:
        # sorted() is stable, also with reverse=True: the first value wins a tie.
        for i in sorted(range(len(scaled)), key=lambda i: scaled[i] % total, reverse=True)[:left]:
            floors[i] += 1
    return [_PERCENTS[f] for f in floors]


_PERCENTS = tuple(Decimal(n).scaleb(-2) for n in range(10001))  # 0.00 … 100.00


def _summary_filter(date_from: date | None, date_to: date | None) -> tuple[Q, Q | None]:
    """Summary rows whose sum is exactly [date_from, date_to]: (rows to add, rows to subtract).

    The range is read as its whole months; each part left at its head and tail as whole ISO
    weeks plus a few days (`_weeks_and_days`), where a week that sticks out of the part is
    taken whole and its days outside subtracted, when that reads fewer rows. So at most 3 day
    rows at each end of each part, however the range falls on the calendar. The subtracted
    rows are None when there are none.
    """
    if date_from is None or date_from.day == 1:
        first_full = date_from
    else:
        first_full = (date_from.replace(day=28) + timedelta(days=4)).replace(day=1)
    if date_to is None or date_to.day == monthrange(date_to.year, date_to.month)[1]:
        last_full = date_to
    else:
        last_full = date_to.replace(day=1) - timedelta(days=1)

    if first_full is not None and last_full is not None and first_full > last_full:
        return _any_of(*_weeks_and_days(date_from, date_to))  # no whole month inside
    added = [Q(period=Period.MONTH, **_bounds("period_start", first_full, last_full))]
    subtracted: list[Q] = []
    if date_from is not None and first_full != date_from:
        plus, minus = _weeks_and_days(date_from, first_full - timedelta(days=1))
        added, subtracted = added + plus, subtracted + minus
    if date_to is not None and last_full != date_to:
        plus, minus = _weeks_and_days(last_full + timedelta(days=1), date_to)
        added, subtracted = added + plus, subtracted + minus
    return _any_of(added, subtracted)


def _any_of(added: list[Q], subtracted: list[Q]) -> tuple[Q, Q | None]:
    """Each list OR-ed into one filter (None for no rows to subtract)."""
    return reduce(operator.or_, added), reduce(operator.or_, subtracted) if subtracted else None


def _weeks_and_days(first: date, last: date) -> tuple[list[Q], list[Q]]:
    """Rows whose sum is exactly [first, last], as (rows to add, rows to subtract): ISO weeks
    (Monday to Sunday) and days, the fewest rows of the ways to cover it.

    At each end, either the days up to the next whole week are added, or the week that holds
    them is taken whole and its days outside the range subtracted: at most 3 days either way
    (on a tie, the fewer days: a week row is read for most products, a day row for fewer).
    Days alone may win for a part shorter than a week.
    """
    day = timedelta(days=1)
    mondays = (
        first + timedelta(days=-first.weekday() % 7),  # on or after `first`
        first - timedelta(days=first.weekday()),  # on or before
    )
    sundays = (
        last - timedelta(days=(last.weekday() + 1) % 7),  # on or before `last`
        last + timedelta(days=6 - last.weekday()),  # on or after
    )
    days_only = (last - first).days + 1
    best = (days_only, days_only, None, None)  # (rows, of which days, first Monday, last Sunday)
    for monday in mondays:
        for sunday in sundays:
            if monday < sunday:
                days = abs((monday - first).days) + abs((sunday - last).days)
                rows = (sunday - monday).days // 7 + 1 + days
                best = min(best, (rows, days, monday, sunday))
    *_, monday, sunday = best
    if monday is None:
        return [_days(first, last)], []
    plus, minus = [Q(period=Period.WEEK, period_start__gte=monday, period_start__lte=sunday)], []
    for lo, hi, into in (
        (first, monday - day, plus),  # days before the first whole week
        (monday, first - day, minus),  # days of the first week before the range
        (sunday + day, last, plus),  # days after the last whole week
        (last + day, sunday, minus),  # days of the last week after the range
    ):
        if lo <= hi:
            into.append(_days(lo, hi))
    return plus, minus


def _days(first: date, last: date) -> Q:
    return Q(period=Period.DAY, period_start__gte=first, period_start__lte=last)


def _bounds(field: str, date_from: date | None, date_to: date | None) -> dict:
    bounds = {}
    if date_from is not None:
        bounds[f"{field}__gte"] = date_from
    if date_to is not None:
        bounds[f"{field}__lte"] = date_to
    return bounds


def _sums(*fields: str) -> dict:
    return {f"total_{f}": Coalesce(Sum(f), 0 if f in ("units", "orders") else ZERO) for f in fields}


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
    day = date_from
    while day <= date_to:
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
        day += timedelta(days=1)
    return days


def sales_by_product(*, date_from: date | None = None, date_to: date | None = None) -> list[dict]:
    """Each product sold in the range: product_id, product_name, category_id, category_name,
    units_sold, revenue, cost; highest revenue first (then by id).

    One query: the summary rows are summed per product first (the rows `_summary_filter`
    subtracts with their sign turned), and only those sums are joined to the product and
    category names (a join before the sum would drag the names through every summary row).
    """
    added, subtracted = _summary_filter(date_from, date_to)
    columns = ("product_id", "units", "revenue", "cost")
    rows, params = (
        ProductSalesSummary.objects.filter(added).values_list(*columns).query.sql_with_params()
    )
    if subtracted is not None:
        minus, minus_params = (
            ProductSalesSummary.objects.filter(subtracted)
            .values_list(*columns)
            .query.sql_with_params()
        )
        negated = "SELECT product_id, -units, -revenue, -cost"
        rows = f"{rows} UNION ALL {negated} FROM ({minus}) m"  # noqa: S608
        params += minus_params
    product, category = Product._meta.db_table, Category._meta.db_table
    # Only our own table names and the ORM's compiled SQL go into the string; values stay
    # parameters.
    query = (
        "SELECT s.product_id, p.name, p.category_id, c.name, s.units, s.revenue, s.cost "  # noqa: S608
        "FROM (SELECT product_id, SUM(units) AS units, SUM(revenue) AS revenue, "
        f"SUM(cost) AS cost FROM ({rows}) r GROUP BY product_id HAVING SUM(units) > 0) s "
        f"JOIN {product} p ON p.id = s.product_id JOIN {category} c ON c.id = p.category_id "
        "ORDER BY s.revenue DESC, s.product_id"
    )
    postgres = connection.vendor == "postgresql"
    with transaction.atomic() if postgres else nullcontext(), connection.cursor() as cursor:
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
        rows = cursor.fetchall()
    return [
        {
            "product_id": product_id,
            "product_name": name,
            "category_id": category_id,
            "category_name": category_name,
            "units_sold": int(units),
            "revenue": _money(revenue),
            "cost": _money(cost),
        }
        for product_id, name, category_id, category_name, units, revenue, cost in rows
    ]


def product_sales(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int | None = None,
    rows: list[dict] | None = None,
) -> list[dict]:
    """sales_by_product with percent_of_units and percent_of_revenue (of all products sold,
    also when `limit` keeps only the first ones). `rows`: an already fetched sales_by_product
    (its dicts get the two percentages)."""
    if rows is None:
        rows = sales_by_product(date_from=date_from, date_to=date_to)
    unit_shares = shares([r["units_sold"] for r in rows])
    revenue_shares = shares([r["revenue"] for r in rows])
    for row, units, revenue in zip(rows, unit_shares, revenue_shares, strict=True):
        row["percent_of_units"], row["percent_of_revenue"] = units, revenue
    return rows[:limit] if limit is not None else rows


def category_sales(
    *, date_from: date | None = None, date_to: date | None = None, rows: list[dict] | None = None
) -> list[dict]:
    """Each category with sales in the range: category_id, category_name, units_sold, revenue,
    cost, profit, percent_of_revenue, and its products (product_id, product_name, units_sold,
    revenue, percent_of_category), highest revenue first. Grouped from sales_by_product's
    per-product sums (already summed in the database)."""
    if rows is None:
        rows = sales_by_product(date_from=date_from, date_to=date_to)
    categories: dict[int, dict] = {}
    for row in rows:  # highest revenue first, so each category's products are in order too
        category = categories.get(row["category_id"])
        if category is None:
            category = categories[row["category_id"]] = {
                "category_id": row["category_id"],
                "category_name": row["category_name"],
                "units_sold": 0,
                "revenue": ZERO,
                "cost": ZERO,
                "products": [],
            }
        category["units_sold"] += row["units_sold"]
        category["revenue"] += row["revenue"]
        category["cost"] += row["cost"]
        category["products"].append(
            {
                "product_id": row["product_id"],
                "product_name": row["product_name"],
                "units_sold": row["units_sold"],
                "revenue": row["revenue"],
            }
        )
    result = sorted(categories.values(), key=lambda c: (-c["revenue"], c["category_name"]))
    for category, share in zip(result, shares([c["revenue"] for c in result]), strict=True):
        category["profit"] = category["revenue"] - category["cost"]
        category["percent_of_revenue"] = share
        products = category["products"]
        for product, part in zip(products, shares([p["revenue"] for p in products]), strict=True):
            product["percent_of_category"] = part
    return result


def low_stock_products(*, threshold: int | None = None, limit: int | None = None):
    """Active products with at most `threshold` (default settings.LOW_STOCK_THRESHOLD) units
    on hand, fewest first."""
    if threshold is None:
        threshold = settings.LOW_STOCK_THRESHOLD
    qs = (
        Product.objects.filter(is_active=True, quantity__lte=threshold)
        .select_related("category")
        .order_by("quantity", "id")
    )
    return qs[:limit] if limit is not None else qs


def dashboard(*, date_from: date, date_to: date, low_stock_limit: int = 20) -> dict:
    """Everything the Analysts' dashboard shows, in five queries: summary, days, products
    (with shares, all of them), categories (with per-product shares), low stock."""
    rows = sales_by_product(date_from=date_from, date_to=date_to)
    return {
        "summary": profit_summary(date_from=date_from, date_to=date_to),
        "days": sales_per_day(date_from=date_from, date_to=date_to),
        "products": product_sales(rows=rows),
        "categories": category_sales(rows=rows),
        "low_stock": list(low_stock_products(limit=low_stock_limit)),
    }
