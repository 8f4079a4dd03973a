"""The report queries. Every figure is summed in the database from the sales summary.

Only executed orders are in the summary (a refund takes its order back out), each line with
the price and cost it was executed at. Date bounds are inclusive days of `executed_at` in
settings.TIME_ZONE; `None` leaves that side open. A range is read as its whole months (the
summary's month rows), then the whole ISO weeks in the parts left at its edges (week rows),
then the few days left over (day rows), so the cost of a report grows with products × months,
not with the number of order lines.
"""

from calendar import monthrange
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

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


def _summary_filter(date_from: date | None, date_to: date | None) -> Q:
    """Summary rows covering exactly [date_from, date_to]: its whole months; then, in each
    part left at its head and tail, the whole ISO weeks inside that part; then the days left
    (at most 6 on each side of each part)."""
    if date_from is None or date_from.day == 1:
        first_full = date_from
    else:
        first_full = (date_from.replace(day=28) + timedelta(days=4)).replace(day=1)
    if date_to is None or date_to.day == monthrange(date_to.year, date_to.month)[1]:
        last_full = date_to
    else:
        last_full = date_to.replace(day=1) - timedelta(days=1)

    if first_full is not None and last_full is not None and first_full > last_full:
        return _weeks_and_days(date_from, date_to)  # no whole month inside
    rows = Q(period=Period.MONTH, **_bounds("period_start", first_full, last_full))
    if date_from is not None and first_full != date_from:
        rows |= _weeks_and_days(date_from, first_full - timedelta(days=1))
    if date_to is not None and last_full != date_to:
        rows |= _weeks_and_days(last_full + timedelta(days=1), date_to)
    return rows


def _weeks_and_days(first: date, last: date) -> Q:
    """Rows covering exactly [first, last]: its whole ISO weeks (Monday to Sunday), plus days."""
    monday = first + timedelta(days=-first.weekday() % 7)  # first Monday on or after `first`
    sunday = last - timedelta(days=(last.weekday() + 1) % 7)  # last Sunday on or before `last`
    if monday > sunday:
        return Q(period=Period.DAY, period_start__gte=first, period_start__lte=last)
    rows = Q(period=Period.WEEK, period_start__gte=monday, period_start__lte=sunday)
    if first < monday:
        rows |= Q(period=Period.DAY, period_start__gte=first, period_start__lt=monday)
    if sunday < last:
        rows |= Q(period=Period.DAY, period_start__gt=sunday, period_start__lte=last)
    return rows


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

    One query: the summary rows are summed per product first, and only those sums are joined
    to the product and category names (a join before the sum would drag the names through
    every summary row).
    """
    sums = (
        ProductSalesSummary.objects.filter(_summary_filter(date_from, date_to))
        .values("product_id")
        .annotate(**_sums("units", "revenue", "cost"))
        .filter(total_units__gt=0)
        .order_by()
    )
    sql, params = sums.query.sql_with_params()  # values stay parameters
    product, category = Product._meta.db_table, Category._meta.db_table
    # Only our own table names and the ORM's compiled SQL go into the string.
    query = (
        "SELECT s.product_id, p.name, p.category_id, c.name, s.total_units, s.total_revenue, "  # noqa: S608
        f"s.total_cost FROM ({sql}) s JOIN {product} p ON p.id = s.product_id "
        f"JOIN {category} c ON c.id = p.category_id ORDER BY s.total_revenue DESC, s.product_id"
    )
    postgres = connection.vendor == "postgresql"
    with transaction.atomic() if postgres else nullcontext(), connection.cursor() as cursor:
        if postgres:
            # One hash-aggregate group per product: let it stay in memory, not spill to disk.
            cursor.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
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
