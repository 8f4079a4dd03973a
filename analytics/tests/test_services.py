"""The summary against the order lines: record, refund, rebuild; and the report figures
checked against sums computed here independently from the lines."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import override_settings

from analytics import selectors
from analytics.models import DailySalesTotal, ProductSalesSummary
from analytics.services import sales_summary_rebuild
from analytics.tests.factories import CategoryFactory, ProductFactory, executed_order, refund
from orders.models import Order, OrderLine

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0, tz=UTC) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)


def expected_from_lines(date_from=None, date_to=None):
    """Independent figures: a plain Python pass over the executed lines (UTC days)."""
    lines = OrderLine.objects.filter(order__status=Order.Status.EXECUTED).select_related("order")
    revenue = cost = Decimal(0)
    units, orders, per_product = 0, set(), {}
    for line in lines:
        day = line.order.executed_at.astimezone(UTC).date()
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        revenue += line.unit_price * line.quantity
        cost += line.unit_cost * line.quantity
        units += line.quantity
        orders.add(line.order_id)
        got = per_product.setdefault(line.product_id, [0, Decimal(0)])
        got[0] += line.quantity
        got[1] += line.unit_price * line.quantity
    return {"revenue": revenue, "cost": cost, "units": units, "orders": len(orders)}, per_product


def test_profit_summary_counts_only_executed_orders_at_their_line_prices():
    tea, mug = ProductFactory(price="5.00", cost="1.00"), ProductFactory(price="8.00", cost="3.00")
    day = date(2026, 3, 10)
    executed_order([(tea, 2, "4.50", "1.20"), (mug, 1, "8.00", "3.10")], at=at(day))
    executed_order([(tea, 3, "5.00", "1.00")], at=at(day + timedelta(days=1)))
    executed_order([(tea, 7, "5.00", "1.00")], at=at(day), status=Order.Status.PENDING)
    executed_order([(tea, 9, "5.00", "1.00")], at=at(day), status=Order.Status.CANCELLED)
    executed_order([(mug, 4, "8.00", "3.00")], at=at(day), status=Order.Status.REFUNDED)

    summary = selectors.profit_summary()

    # 2×4.50 + 8.00 + 3×5.00 = 32.00; cost 2×1.20 + 3.10 + 3×1.00 = 8.50
    assert summary.revenue == Decimal("32.00")
    assert summary.cost == Decimal("8.50")
    assert summary.profit == Decimal("23.50")
    assert summary.executed_orders == 2
    assert summary.units_sold == 6
    assert summary.margin_percent == Decimal("73.44")


def test_profit_summary_price_and_cost_change_after_execution_moves_nothing():
    tea = ProductFactory(price="5.00", cost="2.00")
    executed_order([(tea, 4, "5.00", "2.00")], at=at(date(2026, 1, 5)))
    before = selectors.profit_summary()

    tea.price, tea.cost = Decimal("50.00"), Decimal("40.00")
    tea.save()

    after = selectors.profit_summary()
    assert after == before
    assert (after.revenue, after.cost, after.profit) == (
        Decimal("20.00"),
        Decimal("8.00"),
        Decimal("12.00"),
    )
    assert sales_summary_rebuild(dry_run=True).differences == 0


def test_reports_date_bounds_are_inclusive_days():
    tea = ProductFactory()
    first, last = date(2026, 2, 1), date(2026, 2, 3)
    executed_order([(tea, 1, "1.00", "0.00")], at=at(first - timedelta(days=1), 23, 59, 59))
    executed_order([(tea, 2, "1.00", "0.00")], at=at(first, 0, 0, 0))
    executed_order([(tea, 4, "1.00", "0.00")], at=at(last, 23, 59, 59))
    executed_order([(tea, 8, "1.00", "0.00")], at=at(last + timedelta(days=1), 0, 0, 0))

    summary = selectors.profit_summary(date_from=first, date_to=last)
    products = selectors.product_sales(date_from=first, date_to=last)

    assert (summary.units_sold, summary.executed_orders) == (6, 2)
    assert [(p.product_id, p.units_sold) for p in products] == [(tea.pk, 6)]
    assert selectors.profit_summary(date_from=first, date_to=first).units_sold == 2


@override_settings(TIME_ZONE="Europe/Paris")
def test_reports_days_are_in_the_configured_time_zone():
    tea = ProductFactory()
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris.
    executed_order([(tea, 1, "3.00", "1.00")], at=at(date(2026, 1, 31), 23, 30))

    assert selectors.profit_summary(date_to=date(2026, 1, 31)).units_sold == 0
    assert selectors.profit_summary(date_from=date(2026, 2, 1)).units_sold == 1
    assert selectors.product_sales(date_from=date(2026, 2, 1), date_to=date(2026, 2, 1))
    assert sales_summary_rebuild(dry_run=True).differences == 0


def test_reports_match_order_lines_for_ranges_across_months():
    rng = random.Random(6)
    products = [ProductFactory(category=c) for c in CategoryFactory.create_batch(3) for _ in "ab"]
    start = date(2025, 11, 20)
    for _ in range(40):
        picked = rng.sample(products, rng.randint(1, 3))
        executed_order(
            [(p, rng.randint(1, 5), f"{rng.randint(100, 9999) / 100:.2f}", "0.75") for p in picked],
            at=at(start + timedelta(days=rng.randint(0, 100)), rng.randint(0, 23)),
            status=rng.choice([Order.Status.EXECUTED] * 4 + [Order.Status.REFUNDED]),
        )
    ranges = [
        (None, None),
        (date(2025, 12, 1), date(2026, 1, 31)),  # whole months only
        (date(2025, 11, 25), date(2026, 2, 10)),  # edges on both sides
        (date(2025, 12, 5), date(2025, 12, 20)),  # inside one month
        (None, date(2026, 1, 15)),
        (date(2026, 1, 15), None),
    ]
    for date_from, date_to in ranges:
        totals, per_product = expected_from_lines(date_from, date_to)
        summary = selectors.profit_summary(date_from=date_from, date_to=date_to)
        rows = selectors.product_sales(date_from=date_from, date_to=date_to)
        categories = selectors.category_sales(date_from=date_from, date_to=date_to)

        assert (summary.revenue, summary.cost) == (totals["revenue"], totals["cost"])
        assert (summary.units_sold, summary.executed_orders) == (totals["units"], totals["orders"])
        assert {r.product_id: [r.units_sold, r.revenue] for r in rows} == per_product
        assert sum(c.revenue for c in categories) == totals["revenue"]
        assert sum(c.profit for c in categories) == totals["revenue"] - totals["cost"]
        revenues = [r.revenue for r in rows]
        assert revenues == sorted(revenues, reverse=True)


def test_reports_percentages_add_up_to_100():
    products = [ProductFactory() for _ in range(7)]
    for i, product in enumerate(products):  # shares of 1/7 each do not round evenly
        executed_order([(product, 1 + i % 2, "3.33", "1.00")], at=at(date(2026, 4, 1)))

    rows = selectors.product_sales()
    categories = selectors.category_sales()

    assert sum(r.percent_of_revenue for r in rows) == Decimal("100.00")
    assert sum(r.percent_of_units for r in rows) == Decimal("100.00")
    assert sum(c.percent_of_revenue for c in categories) == Decimal("100.00")
    for category in categories:
        assert sum(p.percent_of_category for p in category.products) == Decimal("100.00")
    assert all(str(r.percent_of_revenue).count(".") == 1 for r in rows)


def test_hundredths_rounding_and_zero_total():
    assert selectors.hundredths([1, 1, 1]) == [3334, 3333, 3333]  # the first wins the tie
    assert selectors.hundredths([1, 2]) == [3333, 6667]
    assert selectors.hundredths([200, 0]) == [10000, 0]
    assert selectors.hundredths([0, 0]) == [0, 0]
    assert selectors.hundredths([]) == []
    assert selectors.PERCENT_TEXTS[3334] == "33.34"


def test_reports_empty_range_gives_zeros():
    executed_order([(ProductFactory(), 1, "2.00", "1.00")], at=at(date(2026, 5, 5)))
    dates = {"date_from": date(2020, 1, 1), "date_to": date(2020, 12, 31)}

    summary = selectors.profit_summary(**dates)

    assert (summary.revenue, summary.cost, summary.profit) == (0, 0, 0)
    assert (summary.executed_orders, summary.units_sold, summary.margin_percent) == (0, 0, None)
    assert selectors.product_sales(**dates) == []
    assert selectors.category_sales(**dates) == []


def test_sales_summary_record_refund_takes_the_order_back_out():
    tea = ProductFactory()
    day = date(2026, 6, 1)
    kept = executed_order([(tea, 2, "5.00", "2.00")], at=at(day))
    refunded = executed_order([(tea, 3, "5.00", "2.00")], at=at(day))
    assert selectors.profit_summary().units_sold == 5

    refund(refunded)

    summary = selectors.profit_summary()
    assert (summary.units_sold, summary.executed_orders, summary.revenue) == (2, 1, Decimal(10))
    row = ProductSalesSummary.objects.get(product=tea, period="day", period_start=day)
    assert (row.units, row.revenue_cents, row.cost_cents) == (2, 1000, 400)
    month = ProductSalesSummary.objects.get(product=tea, period="month", period_start=day)
    assert month.units == 2
    assert sales_summary_rebuild(dry_run=True).differences == 0
    assert kept.status == Order.Status.EXECUTED


def test_sales_summary_rebuild_repairs_a_tampered_summary():
    tea, mug = ProductFactory(), ProductFactory()
    executed_order([(tea, 2, "5.00", "2.00"), (mug, 1, "9.00", "4.00")], at=at(date(2026, 7, 1)))
    executed_order([(tea, 1, "5.00", "2.00")], at=at(date(2026, 7, 2)))
    # An execution whose summary was never written, and a stray row.
    executed_order([(mug, 5, "9.00", "4.00")], at=at(date(2026, 7, 3)), record=False)
    ProductSalesSummary.objects.filter(product=tea, period="day").update(units=99)
    ProductSalesSummary.objects.create(product=mug, period="day", period_start=date(2020, 1, 1))
    DailySalesTotal.objects.update(revenue=0)
    assert sales_summary_rebuild(dry_run=True).differences > 0
    assert ProductSalesSummary.objects.filter(units=99).count() == 2  # dry run wrote nothing

    out = StringIO()
    call_command("rebuild_sales_summary", stdout=out)

    assert "rows differed" in out.getvalue()
    assert sales_summary_rebuild(dry_run=True).differences == 0
    totals, per_product = expected_from_lines()
    summary = selectors.profit_summary()
    assert (summary.revenue, summary.units_sold, summary.executed_orders) == (
        totals["revenue"],
        totals["units"],
        totals["orders"],
    )
    assert {r.product_id: [r.units_sold, r.revenue] for r in selectors.product_sales()} == (
        per_product
    )
    out = StringIO()
    call_command("rebuild_sales_summary", stdout=out)
    assert "agrees" in out.getvalue()


def test_sales_summary_rebuild_counts_a_row_with_other_figures_once():
    """A row on both sides with other figures is one wrong row, not two (one each way)."""
    tea, mug = ProductFactory(), ProductFactory()
    executed_order([(tea, 2, "5.00", "2.00"), (mug, 1, "9.00", "4.00")], at=at(date(2026, 7, 1)))
    ProductSalesSummary.objects.filter(product=tea, period="day").update(units=99)
    ProductSalesSummary.objects.filter(product=mug, period="year").delete()

    result = sales_summary_rebuild(dry_run=True)

    assert (result.summary_rows_wrong, result.daily_rows_wrong) == (2, 0)
    assert result.summary_rows == 10  # two products, five periods


def test_sales_record_takes_plain_figures():
    from analytics.recorder import sales_record

    tea, mug = ProductFactory(), ProductFactory()
    moment = at(date(2026, 7, 1), hour=23, minute=30)
    figures = [(mug.pk, 1, 900, 400), (tea.pk, 2, 1000, 250)]
    sales_record(executed_at=moment, shard_key=17, products=figures, sign=1)
    sales_record(executed_at=moment, shard_key=17, products=figures[:1], sign=-1)

    rows = ProductSalesSummary.objects.values_list("product", "period", "period_start", "units")
    starts = {"day": date(2026, 7, 1), "week": date(2026, 6, 29), "month": date(2026, 7, 1)}
    starts |= {"quarter": date(2026, 7, 1), "year": date(2026, 1, 1)}
    assert sorted(rows) == sorted(
        [(tea.pk, p, start, 2) for p, start in starts.items()]
        + [(mug.pk, p, start, 0) for p, start in starts.items()]
    )
    assert set(ProductSalesSummary.objects.filter(product=tea).values_list("revenue_cents")) == {
        (1000,)
    }
    daily = DailySalesTotal.objects.get()
    assert (daily.date, daily.shard, daily.orders, daily.units) == (date(2026, 7, 1), 1, 0, 2)
    assert (daily.revenue, daily.cost) == (Decimal("10.00"), Decimal("2.50"))


def test_sales_record_is_registered_with_orders():
    from analytics.recorder import sales_record
    from orders import sales

    assert sales._recorders == [sales_record]


def test_rebuild_sales_summary_dry_run_exits_1_on_differences():
    executed_order([(ProductFactory(), 1, "5.00", "2.00")], at=at(date(2026, 7, 1)), record=False)

    with pytest.raises(SystemExit) as exit_info:
        call_command("rebuild_sales_summary", "--dry-run", stdout=StringIO(), stderr=StringIO())

    assert exit_info.value.code == 1
    assert not ProductSalesSummary.objects.exists()
    assert not DailySalesTotal.objects.exists()


def test_sales_summary_record_rejects_bad_sign():
    order = executed_order([(ProductFactory(), 1, "5.00", "2.00")], at=at(date(2026, 7, 1)))

    with pytest.raises(ValueError):
        from orders.sales import order_sales_record

        order_sales_record(order=order, sign=2)

    assert ProductSalesSummary.objects.get(period="day").units == 1


def test_seed_analytics_builds_the_summary_of_seeded_orders():
    from analytics.demo import seed_analytics

    executed_order([(ProductFactory(), 3, "5.00", "2.00")], at=at(date(2026, 7, 1)), record=False)
    out = StringIO()

    seed_analytics(out)

    assert "Sales summary built" in out.getvalue()
    assert selectors.profit_summary().units_sold == 3
    assert sales_summary_rebuild(dry_run=True).differences == 0


def test_per_product_sums_are_exact_to_the_cent_for_large_figures():
    """The sums run in doubles on PostgreSQL: sums of whole cents below 2**53 must come back
    exact to the cent (in any narrower type, 4,000,000,000,000,001 + 3 would be rounded)."""
    product = ProductFactory()
    period = ProductSalesSummary.Period
    rows = [
        (period.YEAR, date(2026, 1, 1), 3, 4_000_000_000_000_004, 2_000_000_000_000_002),
        (period.DAY, date(2026, 3, 2), 1, 4_000_000_000_000_001, 2_000_000_000_000_001),
        (period.DAY, date(2026, 3, 3), 2, 3, 1),
    ]
    for kind, start, units, revenue, cost in rows:
        ProductSalesSummary.objects.create(
            product=product,
            period=kind,
            period_start=start,
            units=units,
            revenue_cents=revenue,
            cost_cents=cost,
        )

    [row] = selectors.product_sales(date_from=date(2026, 3, 2), date_to=date(2026, 3, 3))

    assert (row.units_sold, row.revenue_cents, row.cost_cents) == (
        3,
        4_000_000_000_000_004,
        2_000_000_000_000_002,
    )
    assert row.revenue == Decimal("40000000000000.04")
