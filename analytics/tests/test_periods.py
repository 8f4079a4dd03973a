"""analytics.periods: week, month, quarter and year rows in the summary, and ranges read as the
fewest rows that sum to exactly the range: figures checked against sums computed independently
from the order lines."""

import calendar
import importlib
import random
from collections import Counter
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from analytics import periods, selectors
from analytics.models import ProductSalesSummary
from analytics.periods import period_starts
from analytics.services import sales_summary_rebuild
from analytics.tests.factories import CategoryFactory, ProductFactory, executed_order, refund
from analytics.tests.test_services import at, expected_from_lines
from orders.models import Order

pytestmark = pytest.mark.django_db
periods_migration = importlib.import_module("analytics.migrations.0007_periods_without_half_months")

RANGES = [
    (date(2026, 3, 17), date(2026, 9, 12)),  # mid-month to mid-month
    (date(2026, 6, 22), date(2026, 7, 12)),  # no whole month; a week across June/July
    (date(2026, 5, 20), date(2026, 8, 5)),  # head with a week, tail of days only
    (date(2026, 4, 27), date(2026, 5, 2)),  # shorter than a week, across a month end
    (date(2026, 4, 14), date(2026, 4, 16)),  # shorter than a week
    (date(2026, 4, 15), date(2026, 4, 15)),  # one day
    (date(2026, 4, 6), date(2026, 4, 26)),  # whole weeks inside one month
    (date(2026, 4, 3), date(2026, 4, 28)),  # inside one month, days at both ends
    (date(2026, 1, 1), date(2026, 12, 31)),  # a calendar year
    (date(2025, 12, 29), date(2027, 1, 3)),  # the ISO year 2026 (weeks across years)
    (date(2026, 2, 11), date(2027, 2, 10)),  # a year from mid-month
    (None, date(2026, 3, 17)),
    (date(2026, 9, 12), None),
]


def covered_days(row) -> list[date]:
    start, period = row.period_start, row.period
    months = {"month": 1, "quarter": 3, "year": 12}.get(period)
    if months is None:
        length = {"day": 1, "week": 7}[period]
    else:
        length = sum(
            calendar.monthrange(
                start.year + (start.month + n - 1) // 12, (start.month + n - 1) % 12 + 1
            )[1]
            for n in range(months)
        )
    return [start + timedelta(days=n) for n in range(length)]


def read_rows(date_from, date_to) -> tuple[list, list]:
    """The summary rows a range reads: (added, subtracted)."""
    return [
        [] if rows is None else list(ProductSalesSummary.objects.filter(rows))
        for rows in selectors._summary_filter(date_from, date_to)
    ]


def test_summary_filter_covers_each_day_of_the_range_once():
    """Every period row of one product over four years: the rows a range adds, less those it
    subtracts, must cover each of its days exactly once, with month rows for whole months
    and few day rows."""
    product = ProductFactory()
    # Every row, consistent, over more than the years the ranges can reach (a range reads
    # its years give or take a week).
    first, last = date(2024, 12, 1), date(2029, 1, 31)
    rows, day = [], first
    while day <= last:
        rows += [
            ProductSalesSummary(product=product, period=period, period_start=day)
            for period, start in period_starts(day).items()
            if start == day
        ]
        day += timedelta(days=1)
    ProductSalesSummary.objects.bulk_create(rows)
    rng = random.Random(6)
    ranges = [r for r in RANGES if None not in r]
    for _ in range(150):
        start = date(2025, 2, 1) + timedelta(days=rng.randint(0, 900))
        ranges.append((start, start + timedelta(days=rng.choice([0, 3, 6, 9, 30, 45, 200]))))

    for date_from, date_to in ranges:
        added, subtracted = read_rows(date_from, date_to)
        days = Counter(d for row in added for d in covered_days(row))
        days.subtract(d for row in subtracted for d in covered_days(row))
        wanted = [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
        assert +days == Counter(wanted), (date_from, date_to)
        assert -days == Counter(), (date_from, date_to)  # no day counted less than zero
        day_rows = sum(row.period == "day" for row in added + subtracted)
        # At most 3 days at each end of each edge part (6 for a part shorter than a week).
        assert day_rows <= 12, (date_from, date_to, day_rows)

    def rows(date_from, date_to):
        return [
            sorted((r.period, r.period_start) for r in part)
            for part in read_rows(date_from, date_to)
        ]

    assert rows(date(2026, 1, 1), date(2026, 12, 31)) == [[("year", date(2026, 1, 1))], []]
    assert rows(date(2026, 12, 2), date(2026, 12, 31)) == [
        [("month", date(2026, 12, 1))],
        [("day", date(2026, 12, 1))],
    ]
    # Tuesday 17 March to Saturday 12 September 2026: the weeks of 16 and 23 March less 16
    # March, 30 and 31 March, the second and third quarters, less the weeks of 14 and 21
    # September and the days 13 and 28–30 September.
    added, subtracted = read_rows(date(2026, 3, 17), date(2026, 9, 12))
    assert sorted((r.period, r.period_start.isoformat()) for r in added) == [
        ("day", "2026-03-30"),
        ("day", "2026-03-31"),
        ("quarter", "2026-04-01"),
        ("quarter", "2026-07-01"),
        ("week", "2026-03-16"),
        ("week", "2026-03-23"),
    ]
    assert sorted((r.period, r.period_start.isoformat()) for r in subtracted) == [
        ("day", "2026-03-16"),
        ("day", "2026-09-13"),
        ("day", "2026-09-28"),
        ("day", "2026-09-29"),
        ("day", "2026-09-30"),
        ("week", "2026-09-14"),
        ("week", "2026-09-21"),
    ]
    # 1 to 12 April: the weeks of 30 March and 6 April less 30 and 31 March.
    assert rows(date(2026, 4, 1), date(2026, 4, 12)) == [
        [("week", date(2026, 3, 30)), ("week", date(2026, 4, 6))],
        [("day", date(2026, 3, 30)), ("day", date(2026, 3, 31))],
    ]


def test_period_start_and_after_each_period():
    day = date(2026, 8, 19)  # a Wednesday
    assert period_starts(day) == {
        "day": day,
        "week": date(2026, 8, 17),
        "month": date(2026, 8, 1),
        "quarter": date(2026, 7, 1),
        "year": date(2026, 1, 1),
    }
    assert [periods.period_after(p, s) for p, s in period_starts(day).items()] == [
        date(2026, 8, 20),
        date(2026, 8, 24),
        date(2026, 9, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),
    ]
    assert periods.period_after("quarter", date(2026, 10, 1)) == date(2027, 1, 1)


def test_calendar_lists_the_longer_periods_of_each_day():
    assert periods.calendar([date(2026, 1, 4)]) == [
        (date(2026, 1, 4), "week", date(2025, 12, 29)),  # ISO week across the year's start
        (date(2026, 1, 4), "month", date(2026, 1, 1)),
        (date(2026, 1, 4), "quarter", date(2026, 1, 1)),
        (date(2026, 1, 4), "year", date(2026, 1, 1)),
    ]


def test_reports_match_order_lines_for_ranges_of_months_weeks_and_days():
    rng = random.Random(7)
    products = [ProductFactory(category=c) for c in CategoryFactory.create_batch(2) for _ in "ab"]
    days = [date(2026, 4, 1) + timedelta(days=n) for n in range(0, 125, 2)]  # dense: Apr–Jul
    days += [date(2025, 12, 20) + timedelta(days=rng.randint(0, 400)) for _ in range(50)]
    days += [date(2025, 12, 28), date(2025, 12, 29), date(2027, 1, 3), date(2027, 1, 4)]
    for day in days:
        picked = rng.sample(products, rng.randint(1, 2))
        executed_order(
            [(p, rng.randint(1, 5), f"{rng.randint(100, 9999) / 100:.2f}", "0.75") for p in picked],
            at=at(day, rng.randint(0, 23)),
            status=rng.choice([Order.Status.EXECUTED] * 5 + [Order.Status.REFUNDED]),
        )
    assert sales_summary_rebuild(dry_run=True).differences == 0

    for date_from, date_to in RANGES:
        totals, per_product = expected_from_lines(date_from, date_to)
        assert totals["units"] > 0, (date_from, date_to)  # a range with sales to compare
        summary = selectors.profit_summary(date_from=date_from, date_to=date_to)
        rows = selectors.product_sales(date_from=date_from, date_to=date_to)
        categories = selectors.category_sales(date_from=date_from, date_to=date_to)

        assert (summary.revenue, summary.cost) == (totals["revenue"], totals["cost"])
        got = {r.product_id: [r.units_sold, r.revenue] for r in rows}
        assert got == per_product, (date_from, date_to)
        assert sum(c.revenue for c in categories) == totals["revenue"]


def test_sales_summary_record_writes_the_iso_week_row():
    tea = ProductFactory()
    sunday, monday = date(2026, 5, 31), date(2026, 6, 1)
    executed_order([(tea, 2, "5.00", "2.00")], at=at(sunday))
    executed_order([(tea, 3, "5.00", "2.00")], at=at(monday))
    refunded = executed_order([(tea, 4, "5.00", "2.00")], at=at(monday + timedelta(days=6)))
    refund(refunded)

    weeks = ProductSalesSummary.objects.filter(product=tea, period="week")
    assert {w.period_start: (w.units, w.revenue_cents, w.cost_cents) for w in weeks} == {
        date(2026, 5, 25): (2, 1000, 400),
        monday: (3, 1500, 600),
    }
    months = ProductSalesSummary.objects.filter(product=tea, period="month")
    assert {m.period_start: m.units for m in months} == {date(2026, 5, 1): 2, monday: 3}
    assert sales_summary_rebuild(dry_run=True).differences == 0


def test_sales_summary_rebuild_restores_missing_week_rows():
    tea = ProductFactory()
    executed_order([(tea, 2, "5.00", "2.00")], at=at(date(2026, 3, 4)))
    ProductSalesSummary.objects.filter(period="week").delete()
    assert sales_summary_rebuild(dry_run=True).summary_rows_wrong == 1

    sales_summary_rebuild()

    week = ProductSalesSummary.objects.get(period="week")
    assert (week.period_start, week.units) == (date(2026, 3, 2), 2)


def test_sales_summary_record_writes_quarter_and_year_rows():
    tea = ProductFactory()
    executed_order([(tea, 2, "5.00", "2.00")], at=at(date(2026, 3, 31)))
    executed_order([(tea, 3, "5.00", "2.00")], at=at(date(2026, 4, 1)))
    refund(executed_order([(tea, 4, "5.00", "2.00")], at=at(date(2026, 5, 20))))
    executed_order([(tea, 1, "5.00", "2.00")], at=at(date(2027, 1, 1)))

    rows = ProductSalesSummary.objects.filter(product=tea, period__in=["quarter", "year"])
    assert {(r.period, r.period_start): (r.units, r.revenue_cents, r.cost_cents) for r in rows} == {
        ("quarter", date(2026, 1, 1)): (2, 1000, 400),
        ("quarter", date(2026, 4, 1)): (3, 1500, 600),
        ("quarter", date(2027, 1, 1)): (1, 500, 200),
        ("year", date(2026, 1, 1)): (5, 2500, 1000),
        ("year", date(2027, 1, 1)): (1, 500, 200),
    }
    assert sales_summary_rebuild(dry_run=True).differences == 0


def test_periods_migration_rolls_every_longer_period_up_from_the_days():
    """0007 drops half-month rows and writes the week, month, quarter and year rows again from
    the day rows: exactly the rows executions wrote."""
    tea, mug = ProductFactory(), ProductFactory()
    for day, product in [
        (date(2025, 12, 31), tea),
        (date(2026, 1, 15), tea),
        (date(2026, 3, 31), mug),
        (date(2026, 4, 1), mug),
        (date(2026, 11, 2), tea),
        (date(2024, 2, 29), mug),
    ]:
        executed_order([(product, 2, "5.00", "2.00")], at=at(day))
    longer = ProductSalesSummary.objects.exclude(period="day")
    expected = sorted(r[1:] for r in longer.values_list())
    longer.delete()
    ProductSalesSummary.objects.create(
        product=tea, period="half", period_start=date(2026, 1, 1), units=99
    )  # a row of the half months 0006 added

    periods_migration.roll_up_from_days(apps, SimpleNamespace(connection=connection))

    assert sorted(r[1:] for r in longer.values_list()) == expected
    assert not ProductSalesSummary.objects.filter(period="half").exists()
    assert sales_summary_rebuild(dry_run=True).differences == 0
