"""Half-month rows in the sales summary (the 1st to the 15th, the 16th to the month's end): the
choice, and the rows of the days stored.

Rolled up from the stored day rows in one INSERT … SELECT (the figures `rebuild_sales_summary`
would write), so the reports are right as soon as this has run. With them, a range that starts
or ends mid-month reads a half month less a few days at each end, not weeks and days: six
months from mid-March read a quarter fewer rows.
"""

import importlib

from django.db import migrations, models

summed_columns = importlib.import_module("analytics.migrations.0003_week_period").summed_columns


def _half_month_of(connection, column: str) -> str:
    if connection.vendor == "postgresql":
        month = f"CAST(DATE_TRUNC('month', {column}) AS date)"
        return f"CASE WHEN EXTRACT(DAY FROM {column}) <= 15 THEN {month} ELSE {month} + 15 END"
    month = f"DATE({column}, 'start of month')"
    return (
        f"CASE WHEN CAST(STRFTIME('%d', {column}) AS INTEGER) <= 15 THEN {month} "
        f"ELSE DATE({month}, '+15 days') END"
    )


def add_rows(apps, schema_editor):
    connection = schema_editor.connection
    summary = apps.get_model("analytics", "ProductSalesSummary")
    table = connection.ops.quote_name(summary._meta.db_table)
    figures = summed_columns(summary)
    sums = ", ".join(f"SUM({c})" for c in figures)
    start = _half_month_of(connection, "period_start")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE period = 'half'")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} (product_id, period, period_start, {', '.join(figures)}) "  # noqa: S608
            f"SELECT product_id, 'half', {start}, {sums} "
            f"FROM {table} WHERE period = 'day' GROUP BY product_id, {start} "
            f"ORDER BY 3, 1"
        )


def remove_rows(apps, schema_editor):
    summary = apps.get_model("analytics", "ProductSalesSummary")
    summary.objects.filter(period="half").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_summary_in_cents"),
    ]

    operations = [
        migrations.AlterField(
            model_name="productsalessummary",
            name="period",
            field=models.CharField(
                choices=[
                    ("day", "Day"),
                    ("month", "Month"),
                    ("week", "Week"),
                    ("quarter", "Quarter"),
                    ("year", "Year"),
                    ("half", "Half month"),
                ],
                max_length=7,
            ),
        ),
        migrations.RunPython(add_rows, remove_rows),
    ]
