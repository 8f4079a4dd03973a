"""The sales summary's money in integer cents: PostgreSQL sums integers several times faster
than decimals, and the reports sum tens of thousands of summary rows per request."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_quarter_and_year_periods"),
    ]

    operations = [
        migrations.AddField(
            model_name="productsalessummary",
            name="revenue_cents",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="productsalessummary",
            name="cost_cents",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunSQL(
            "UPDATE analytics_productsalessummary SET "
            "revenue_cents = CAST(ROUND(revenue * 100) AS BIGINT), "
            "cost_cents = CAST(ROUND(cost * 100) AS BIGINT)",
            "UPDATE analytics_productsalessummary SET "
            "revenue = revenue_cents / 100.0, cost = cost_cents / 100.0",
        ),
        migrations.RemoveField(model_name="productsalessummary", name="revenue"),
        migrations.RemoveField(model_name="productsalessummary", name="cost"),
    ]
