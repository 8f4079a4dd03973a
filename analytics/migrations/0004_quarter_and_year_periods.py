"""Quarter and year rows in the sales summary: the choices, and the rows of the months stored.

Rolled up from the stored month rows in one INSERT … SELECT each (the figures
`rebuild_sales_summary` would write), so the reports are right as soon as this has run.
"""

import importlib

from django.db import migrations, models

summed_columns = importlib.import_module("analytics.migrations.0003_week_period").summed_columns


def _start_of(connection, period: str, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(DATE_TRUNC('{period}', {column}) AS date)"
    if period == "year":
        return f"DATE({column}, 'start of year')"
    months_back = f"(CAST(STRFTIME('%m', {column}) AS INTEGER) - 1) % 3"
    return f"DATE({column}, '-' || ({months_back}) || ' months')"  # from a month's first day


def add_rows(apps, schema_editor):
    connection = schema_editor.connection
    summary = apps.get_model("analytics", "ProductSalesSummary")
    table = connection.ops.quote_name(summary._meta.db_table)
    figures = summed_columns(summary)
    sums = ", ".join(f"SUM({c})" for c in figures)
    with connection.cursor() as cursor:
        for period in ("quarter", "year"):
            start = _start_of(connection, period, "period_start")
            cursor.execute(f"DELETE FROM {table} WHERE period = '{period}'")  # noqa: S608
            cursor.execute(
                f"INSERT INTO {table} (product_id, period, period_start, {', '.join(figures)}) "  # noqa: S608
                f"SELECT product_id, '{period}', {start}, {sums} "
                f"FROM {table} WHERE period = 'month' GROUP BY product_id, {start} "
                f"ORDER BY 3, 1"
            )


def remove_rows(apps, schema_editor):
    summary = apps.get_model("analytics", "ProductSalesSummary")
    summary.objects.filter(period__in=["quarter", "year"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_week_period"),
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
                ],
                max_length=7,
            ),
        ),
        migrations.RunPython(add_rows, remove_rows),
    ]
