"""The Analysts' dashboard, as a page of the admin (Analytics › Sales dashboard).

Visible and reachable only with analytics.view_reports (Analysts, superusers); any other staff
user gets 403. The charts are inline SVG drawn by analytics.charts; every table is also a CSV
download at <dashboard>/<table>.csv with the same date range.
"""

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from analytics import charts, selectors, tasks
from analytics.forms import DateRangeForm
from analytics.models import SalesDashboard
from inventory.spreadsheets import escape_formula
from shop.admin import ReadOnlyAdminMixin
from shop.jobs import enqueue

CATEGORY_PRODUCTS_SHOWN = 5


def _cell(value):
    """A CSV cell; text that a spreadsheet would run as a formula is escaped with a quote."""
    return escape_formula(value) if isinstance(value, str) else value


def _csv_table(table: str, date_from, date_to) -> tuple[list[str], list[list]] | None:
    """(header, rows) of one downloadable table, or None for an unknown name."""
    dates = {"date_from": date_from, "date_to": date_to}
    if table == "days":
        header = ["date", "executed_orders", "units_sold", "revenue", "cost", "profit"]
        rows = [
            [d["date"].isoformat(), d["orders"], d["units"], d["revenue"], d["cost"], d["profit"]]
            for d in selectors.sales_per_day(**dates)
        ]
    elif table == "products":
        header = [
            "product_id", "product_name", "category_name", "units_sold", "revenue", "cost",
            "percent_of_units", "percent_of_revenue",
        ]  # fmt: skip
        rows = [
            [p.product_id, p.product_name, p.category_name, p.units_sold, p.revenue, p.cost,
             p.percent_of_units, p.percent_of_revenue]
            for p in selectors.product_sales(**dates)
        ]  # fmt: skip
    elif table == "categories":
        header = [
            "category_id", "category_name", "category_units_sold", "category_revenue",
            "category_profit", "category_percent_of_revenue", "product_id", "product_name",
            "product_units_sold", "product_revenue", "product_percent_of_category",
        ]  # fmt: skip
        rows = [
            [c.category_id, c.category_name, c.units_sold, c.revenue, c.profit,
             c.percent_of_revenue, p.product_id, p.product_name, p.units_sold, p.revenue,
             p.percent_of_category]
            for c in selectors.category_sales(**dates)
            for p in c.products
        ]  # fmt: skip
    elif table == "low-stock":
        header = ["product_id", "sku", "product_name", "category_name", "quantity"]
        rows = [
            [p.pk, p.sku, p.name, p.category.name, p.quantity]
            for p in selectors.low_stock_products()
        ]
    else:
        return None
    return header, rows


@admin.register(SalesDashboard)
class SalesDashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("analytics.view_reports")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("", view(self.dashboard_view), name=f"{name}_changelist"),
            path("<slug:table>.csv", view(self.csv_view), name=f"{name}_csv"),
            path("rebuild/", view(require_POST(self.rebuild_view)), name=f"{name}_rebuild"),
        ]

    def _range(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = DateRangeForm(request.GET or None)
        return form, *form.date_range()

    def dashboard_view(self, request):
        form, date_from, date_to = self._range(request)
        data = selectors.dashboard(date_from=date_from, date_to=date_to)
        summary = data["summary"]
        categories = data["categories"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Sales dashboard",
            "opts": self.opts,
            "form": form,
            "date_from": date_from,
            "date_to": date_to,
            "query": f"date_from={date_from.isoformat()}&date_to={date_to.isoformat()}",
            "summary": summary,
            "top_products": data["products"],
            "product_count": data["product_count"],
            "categories": [
                {
                    "category": c,
                    "shown": c.first_products(CATEGORY_PRODUCTS_SHOWN),
                    "hidden": max(0, len(c.rows) - CATEGORY_PRODUCTS_SHOWN),
                }
                for c in categories
            ],
            "low_stock": data["low_stock"],
            "low_stock_more": data["low_stock_more"],
            "revenue_chart": charts.line_chart(
                labels=[d["date"].strftime("%b %d") for d in data["days"]],
                series=[
                    ("Revenue", [d["revenue"] for d in data["days"]]),
                    ("Profit", [d["profit"] for d in data["days"]]),
                ],
                title=f"Revenue and profit per day, {date_from} to {date_to}",
            ),
            "products_chart": charts.bar_chart(
                items=[(p.product_name, p.revenue) for p in data["products"]],
                title="Top 10 products by revenue",
            ),
            "categories_chart": charts.donut_chart(
                items=[(c.category_name, c.percent_of_revenue) for c in categories],
                title="Share of revenue by category (%)",
            ),
        }
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)

    def rebuild_view(self, request):
        """Queue the sales summary rebuild as a job (inline when no broker is configured)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        enqueue(tasks.rebuild_sales_summary)
        messages.success(
            request,
            "The sales summary rebuild has started: the figures are recomputed from the order "
            "lines and repaired if they differ.",
        )
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        )

    def csv_view(self, request, table):
        _form, date_from, date_to = self._range(request)
        found = _csv_table(table, date_from, date_to)
        if found is None:
            raise Http404("No such table.")
        header, rows = found
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"{table}_{date_from.isoformat()}_{date_to.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerow(header)
        writer.writerows([_cell(v) for v in row] for row in rows)
        return response
