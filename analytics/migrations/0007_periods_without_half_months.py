"""The summary's periods without half months (the simplification of 2026-12-04): the half-month
rows go, and every longer period's rows (week, month, quarter, year) are rolled up again from
the stored day rows with the calendar of analytics.periods, so the stored figures are right as
soon as this has run, whatever the migrations before wrote. Reversing it leaves the half-month
rows out: run `rebuild_sales_summary` on the older code after going back.
"""

from django.db import migrations, models

from analytics.rollup import summary_roll_up


def roll_up_from_days(apps, schema_editor):
    summary = apps.get_model("analytics", "ProductSalesSummary")
    connection = schema_editor.connection
    summary.objects.exclude(period="day").delete()
    with connection.cursor() as cursor:
        summary_roll_up(cursor, table=summary._meta.db_table, quote=connection.ops.quote_name)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_half_month_period"),
    ]

    operations = [
        migrations.RunPython(roll_up_from_days, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="productsalessummary",
            name="period",
            field=models.CharField(
                choices=[
                    ("day", "Day"),
                    ("week", "Week"),
                    ("month", "Month"),
                    ("quarter", "Quarter"),
                    ("year", "Year"),
                ],
                max_length=7,
            ),
        ),
    ]
