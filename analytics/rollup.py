"""Rolls a summary table's day rows up into week, month, quarter and year rows.

Shared by the rebuild (analytics.services) and the migration that reshaped the periods
(0007), so that neither computes a calendar in SQL: the periods of each day come from
analytics.periods, in a small temporary table the roll-up joins. It imports no model, so a
migration may use it.
"""

# Only our own table names go into the SQL; the calendar's values go as parameters.
# ruff: noqa: S608

from datetime import date

from analytics.periods import DAY, calendar

FIGURES = ("units", "revenue_cents", "cost_cents")
_CALENDAR = "analytics_calendar"


def summary_roll_up(cursor, *, table: str, quote=lambda name: f'"{name}"') -> None:
    """Insert into `table` (product_id, period, period_start, units, revenue_cents,
    cost_cents) the longer periods' rows, summed from its day rows; the longer periods' rows
    must not be there yet. Rows are appended in period start order, as executions add them."""
    table, calendar_table = quote(table), quote(_CALENDAR)
    cursor.execute(f"SELECT DISTINCT period_start FROM {table} WHERE period = %s", [DAY])
    # SQLite hands the dates back as text.
    days = [d if isinstance(d, date) else date.fromisoformat(d) for (d,) in cursor.fetchall()]
    cursor.execute(f"DROP TABLE IF EXISTS {calendar_table}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {calendar_table} "
        "(day date NOT NULL, period varchar(7) NOT NULL, start date NOT NULL)"
    )
    rows = calendar(days)
    for first in range(0, len(rows), 1000):
        chunk = rows[first : first + 1000]
        cursor.execute(
            f"INSERT INTO {calendar_table} (day, period, start) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(chunk)),
            [value for row in chunk for value in row],
        )
    sums = ", ".join(f"SUM(s.{figure})" for figure in FIGURES)
    cursor.execute(
        f"INSERT INTO {table} (product_id, period, period_start, {', '.join(FIGURES)}) "
        f"SELECT s.product_id, c.period, c.start, {sums} "
        f"FROM {table} s JOIN {calendar_table} c ON c.day = s.period_start "
        "WHERE s.period = %s GROUP BY s.product_id, c.period, c.start "
        "ORDER BY c.period, c.start, s.product_id",
        [DAY],
    )
    cursor.execute(f"DROP TABLE {calendar_table}")
