"""Week, half-month, quarter and year rows in the summary, and ranges read as the fewest rows
that sum to exactly the range: figures checked against sums computed independently from the
order lines."""

import calendar
import importlib
import random
from collections import Counter
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from analytics import selectors
from analytics.models import ProductSalesSummary
from analytics.services import period_starts, sales_summary_rebuild
from analytics.tests.factories import CategoryFactory, ProductFactory, executed_order, refund
from analytics.tests.test_services import at, expected_from_lines
from orders.models import Order

pytestmark = pytest.mark.django_db
week_migration = importlib.import_module("analytics.migrations.0003_week_period")
year_migration = importlib.import_module("analytics.migrations.0004_quarter_and_year_periods")
half_migration = importlib.import_module("analytics.migrations.0006_half_month_period")

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
    if period == "half":  # the 1st to the 15th, or the 16th to the month's last day
        last = 15 if start.day == 1 else calendar.monthrange(start.year, start.month)[1]
        length = last - start.day + 1
    elif months is None:
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
    # Tuesday 17 March to Saturday 12 September: the second half of March less its first day
    # (16 March), the second and third quarters, less the second half of September and the
    # days 13–15 September.
    added, subtracted = read_rows(date(2026, 3, 17), date(2026, 9, 12))
    assert sorted((r.period, r.period_start.isoformat()) for r in added) == [
        ("half", "2026-03-16"),
        ("quarter", "2026-04-01"),
        ("quarter", "2026-07-01"),
    ]
    assert sorted((r.period, r.period_start.isoformat()) for r in subtracted) == [
        ("day", "2026-03-16"),
        ("day", "2026-09-13"),
        ("day", "2026-09-14"),
        ("day", "2026-09-15"),
        ("half", "2026-09-16"),
    ]
    # 1 to 12 April: the first half of April less three days, not a week and five days.
    assert rows(date(2026, 4, 1), date(2026, 4, 12)) == [
        [("half", date(2026, 4, 1))],
        [("day", date(2026, 4, 13)), ("day", date(2026, 4, 14)), ("day", date(2026, 4, 15))],
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


def test_week_migration_rolls_existing_day_rows_up_into_weeks():
    tea, mug = ProductFactory(), ProductFactory()
    for day, product in [(date(2026, 3, 1), tea), (date(2026, 3, 2), tea), (date(2026, 3, 8), mug)]:
        executed_order([(product, 2, "5.00", "2.00")], at=at(day))
    expected = sorted(
        r[1:] for r in ProductSalesSummary.objects.filter(period="week").values_list()
    )
    ProductSalesSummary.objects.filter(period="week").delete()

    week_migration.add_week_rows(apps, SimpleNamespace(connection=connection))

    rows = ProductSalesSummary.objects.filter(period="week")
    assert sorted(r[1:] for r in rows.values_list()) == expected
    assert sales_summary_rebuild(dry_run=True).differences == 0
    week_migration.remove_week_rows(apps, SimpleNamespace(connection=connection))
    assert not ProductSalesSummary.objects.filter(period="week").exists()


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


def test_quarter_and_year_migration_rolls_existing_month_rows_up():
    tea, mug = ProductFactory(), ProductFactory()
    for day, product in [
        (date(2025, 12, 31), tea),
        (date(2026, 1, 15), tea),
        (date(2026, 3, 31), mug),
        (date(2026, 4, 1), mug),
        (date(2026, 11, 2), tea),
    ]:
        executed_order([(product, 2, "5.00", "2.00")], at=at(day))
    longer = ProductSalesSummary.objects.filter(period__in=["quarter", "year"])
    assert longer.count() == 8  # quarters: tea 3, mug 2; years: tea 2, mug 1

    assert_migration_rewrites(year_migration, longer)


def assert_migration_rewrites(migration, rows):
    """The migration's add_rows writes back exactly the `rows` that executions wrote (deleted
    first), and its remove_rows removes them."""
    expected = sorted(r[1:] for r in rows.values_list())
    rows.delete()

    migration.add_rows(apps, SimpleNamespace(connection=connection))

    assert sorted(r[1:] for r in rows.values_list()) == expected
    assert sales_summary_rebuild(dry_run=True).differences == 0
    migration.remove_rows(apps, SimpleNamespace(connection=connection))
    assert not rows.exists()


def test_sales_summary_record_writes_half_month_rows():
    tea = ProductFactory()
    executed_order([(tea, 2, "5.00", "2.00")], at=at(date(2026, 2, 15)))
    executed_order([(tea, 3, "5.00", "2.00")], at=at(date(2026, 2, 16)))
    executed_order([(tea, 1, "5.00", "2.00")], at=at(date(2026, 2, 28)))
    refund(executed_order([(tea, 4, "5.00", "2.00")], at=at(date(2026, 3, 1))))

    halves = ProductSalesSummary.objects.filter(product=tea, period="half")
    assert {h.period_start: (h.units, h.revenue_cents, h.cost_cents) for h in halves} == {
        date(2026, 2, 1): (2, 1000, 400),
        date(2026, 2, 16): (4, 2000, 800),
        date(2026, 3, 1): (0, 0, 0),  # refunded: the row stays, at zero
    }
    sold = selectors.product_sales(date_from=date(2026, 2, 16), date_to=date(2026, 3, 10))
    assert [(p.product_id, p.units_sold) for p in sold] == [(tea.pk, 4)]
    assert sales_summary_rebuild(dry_run=True).differences == 0


def test_half_month_migration_rolls_existing_day_rows_up():
    tea, mug = ProductFactory(), ProductFactory()
    for day, product in [
        (date(2026, 1, 15), tea),
        (date(2026, 1, 16), tea),
        (date(2026, 1, 31), tea),
        (date(2026, 2, 1), mug),
        (date(2024, 2, 29), mug),
    ]:
        executed_order([(product, 2, "5.00", "2.00")], at=at(day))
    halves = ProductSalesSummary.objects.filter(period="half")
    assert sorted(halves.values_list("product", "period_start", "units")) == [
        (tea.pk, date(2026, 1, 1), 2),
        (tea.pk, date(2026, 1, 16), 4),
        (mug.pk, date(2024, 2, 16), 2),
        (mug.pk, date(2026, 2, 1), 2),
    ]

    assert_migration_rewrites(half_migration, halves)
