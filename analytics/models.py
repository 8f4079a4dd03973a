"""The sales summary the reports read, kept in step with executions and refunds.

`ProductSalesSummary` holds, per product, one row per day, and the same figures rolled up per ISO
week (Monday start), month, quarter and year (the calendar: analytics.periods), so a report
over any date range adds and subtracts the fewest of them that cover it exactly (a year, or a
month less a day, say): its cost grows with the products sold, not with the number of order
lines.
`DailySalesTotal` holds the day's totals over all products, with the executed-orders count
(which per-product rows cannot give); it is split into a few shards so concurrent executions
on the same day do not queue behind one row lock.

Both are written only by analytics.recorder (one sale at a time, called by orders) and
analytics.services.sales_summary_rebuild.
"""

from django.db import models

MONEY = {"max_digits": 16, "decimal_places": 2}


class ProductSalesSummary(models.Model):
    class Period(models.TextChoices):  # analytics.periods.PERIODS
        DAY = "day", "Day"
        WEEK = "week", "Week"
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        YEAR = "year", "Year"

    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="sales_summary"
    )
    period = models.CharField(max_length=7, choices=Period.choices)
    # The day, the Monday of the ISO week, or the first day of the month, quarter or year, in
    # settings.TIME_ZONE.
    period_start = models.DateField()
    units = models.BigIntegerField(default=0)
    # In cents: the reports sum tens of thousands of these per request, and PostgreSQL sums
    # integers several times faster than decimals (and in far less memory per product).
    revenue_cents = models.BigIntegerField(default=0)
    cost_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "product sales summary"
        verbose_name_plural = "product sales summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["period", "period_start", "product"],
                name="analytics_summary_one_per_product_period",
            ),
        ]
        permissions = [("view_reports", "Can view sales reports and the dashboard")]

    def __str__(self):
        return f"{self.product_id} {self.period} {self.period_start}: {self.units}"


class DailySalesTotal(models.Model):
    SHARDS = 8

    date = models.DateField()
    shard = models.PositiveSmallIntegerField(default=0)
    orders = models.IntegerField(default=0)
    units = models.BigIntegerField(default=0)
    revenue = models.DecimalField(**MONEY, default=0)
    cost = models.DecimalField(**MONEY, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "shard"], name="analytics_daily_one_per_shard"),
        ]

    def __str__(self):
        return f"{self.date}#{self.shard}: {self.orders} orders"


class SalesDashboard(ProductSalesSummary):
    """The admin's entry for the Analysts' dashboard (no table of its own)."""

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = "sales dashboard"
        verbose_name_plural = "sales dashboard"
