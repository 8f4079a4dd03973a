"""Week rows in the sales summary: the choice.

The week rows of the days already stored were rolled up here until 2026-12-04; 0007 now rolls every
longer period up from the stored day rows (with the calendar of analytics.periods), so this
migration only changes the choices.
"""

from django.db import migrations, models


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
    ]
