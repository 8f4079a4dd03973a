"""Quarter and year rows in the sales summary: the choices.

The quarter and year rows of the months already stored were rolled up here until 2026-12-04; 0007 now rolls every
longer period up from the stored day rows (with the calendar of analytics.periods), so this
migration only changes the choices.
"""

from django.db import migrations, models


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
    ]
