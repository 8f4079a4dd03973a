"""Week rows in the sales summary: the choice, and the week rows of the days already stored.

The week rows are rolled up from the stored day rows in one INSERT … SELECT (the same figures
`rebuild_sales_summary` would write), so the reports are right as soon as this has run.
"""

from django.db import migrations, models


def _week_of(connection, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(DATE_TRUNC('week', {column}) AS date)"
    return f"DATE({column}, 'weekday 0', '-6 days')"  # the Sunday ending the week, minus 6


def summed_columns(summary) -> list[str]:
    """The figures of a summary model's rows (units and money, however the model stores it)."""
    keys = ("id", "product", "period", "period_start")
    return [f.column for f in summary._meta.concrete_fields if f.name not in keys]


def add_week_rows(apps, schema_editor):
    connection = schema_editor.connection
    summary = apps.get_model("analytics", "ProductSalesSummary")
    table = connection.ops.quote_name(summary._meta.db_table)
    week = _week_of(connection, "period_start")
    figures = summed_columns(summary)
    sums = ", ".join(f"SUM({c})" for c in figures)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE period = 'week'")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} (product_id, period, period_start, {', '.join(figures)}) "  # noqa: S608
            f"SELECT product_id, 'week', {week}, {sums} "
            f"FROM {table} WHERE period = 'day' GROUP BY product_id, {week} "
            f"ORDER BY 3, 1"
        )


def remove_week_rows(apps, schema_editor):
    apps.get_model("analytics", "ProductSalesSummary").objects.filter(period="week").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_analytics_role_permissions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="productsalessummary",
            name="period",
            field=models.CharField(
                choices=[("day", "Day"), ("month", "Month"), ("week", "Week")], max_length=5
            ),
        ),
        migrations.RunPython(add_week_rows, remove_week_rows),
    ]
