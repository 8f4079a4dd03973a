"""The calendar of the sales summary, in one place: its periods, the day of a sale, and which
summary rows sum to exactly a range of days.

A summary row holds one product's figures over one period: a day, an ISO week (Monday start),
a month, a quarter or a year. Every rule about those periods is written here once, in Python;
the SQL that rolls day rows up into longer periods joins a table built by `calendar` rather
than computing dates itself (so it is the same on PostgreSQL and SQLite).
"""

import heapq
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

DAY, WEEK, MONTH, QUARTER, YEAR = "day", "week", "month", "quarter", "year"
PERIODS = (DAY, WEEK, MONTH, QUARTER, YEAR)  # shortest first
_MONTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}
ONE_DAY = timedelta(days=1)

# Roughly how many summary rows one row of a period stands for when a report reads it,
# relative to the others: measured on a year of 1,000,000 lines over 10,000 products, a day
# holds a quarter of the products a month does (2,321 of 9,990), a week four fifths (8,136);
# months, quarters and years about all of them.
ROW_WEIGHT = {DAY: 1, WEEK: 3, MONTH: 4, QUARTER: 4, YEAR: 4}


def sales_day(moment: datetime) -> date:
    """The calendar day of an aware datetime in settings.TIME_ZONE (the reports' days)."""
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).date()


def _add_months(first_day: date, months: int) -> date:
    years, month = divmod(first_day.month - 1 + months, 12)
    return date(first_day.year + years, month + 1, 1)


def period_start(period: str, day: date) -> date:
    """The first day of the `period` that holds `day`."""
    if period == DAY:
        return day
    if period == WEEK:
        return day - timedelta(days=day.weekday())  # the ISO week's Monday
    months = _MONTHS[period]
    return date(day.year, day.month - (day.month - 1) % months, 1)


def period_after(period: str, start: date) -> date:
    """The first day after the `period` that starts at `start`."""
    if period == DAY:
        return start + ONE_DAY
    if period == WEEK:
        return start + timedelta(days=7)
    return _add_months(start, _MONTHS[period])


def period_starts(day: date) -> dict[str, date]:
    """The start of each period that holds `day`: the rows a sale on that day adds to."""
    return {period: period_start(period, day) for period in PERIODS}


def calendar(days) -> list[tuple[date, str, date]]:
    """(day, period, start) for each of `days` and each period longer than a day: the table
    the roll-up SQL joins to sum day rows into weeks, months, quarters and years."""
    return [(day, period, period_start(period, day)) for day in days for period in PERIODS[1:]]


def _steps(day: date):
    """The period rows that start or end at `day`: (the other end, period, row's start, sign).

    Walking from `day` to the other end adds that row (sign 1) when going forward in time, and
    subtracts it (sign -1) when going back.
    """
    for period in PERIODS:
        if period_start(period, day) == day:
            yield period_after(period, day), period, day, 1
            before = period_start(period, day - ONE_DAY)
            yield before, period, before, -1


def cover(first: date, last: date) -> tuple[dict[str, list[date]], dict[str, list[date]]]:
    """The summary rows whose sum is exactly the days [first, last], the cheapest to read:
    ({period: [starts of rows to add]}, {period: [starts of rows to subtract]}).

    A shortest path over the calendar: from `first` to the day after `last`, each step crosses
    one period row, forward to add it or backward to subtract it, so the rows along any path
    sum to exactly the range (the days in between cancel out). Each step costs its period's
    ROW_WEIGHT; the path stays within the years of the range, give or take a week. A calendar
    year is one row; the last 30 days of a month are that month less its first day.
    """
    target = last + ONE_DAY
    low, high = date(first.year, 1, 1) - timedelta(days=7), date(last.year + 1, 1, 8)
    best: dict[date, tuple] = {first: (0, None)}  # day: (cost, the step that reached it)
    heap = [(0, first)]
    while heap:
        cost, day = heapq.heappop(heap)
        if day == target:
            break
        if cost > best[day][0]:
            continue
        for other, period, start, sign in _steps(day):
            through = cost + ROW_WEIGHT[period]
            if low <= other <= high and (other not in best or through < best[other][0]):
                best[other] = (through, (day, period, start, sign))
                heapq.heappush(heap, (through, other))
    added: dict[str, list[date]] = {}
    subtracted: dict[str, list[date]] = {}
    day = target
    while day != first:
        day, period, start, sign = best[day][1]
        (added if sign > 0 else subtracted).setdefault(period, []).append(start)
    return added, subtracted
