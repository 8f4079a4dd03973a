"""The three report endpoints. Thin: validate the query, call a selector, shape the answer.

The answers are shaped as plain dicts (money and percentages as two-place strings) rather than
through serializer instances, and encoded by orjson: a report may list every product, and
DRF's own JSON encoder took a quarter of the time of such a report. The serializers in
analytics.api.serializers document the same shapes in the OpenAPI schema.
"""

from drf_orjson_renderer.renderers import ORJSONRenderer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.api import serializers
from analytics.api.permissions import CanViewReports
from analytics.selectors import PERCENT_TEXTS
from shop.money import money, money_from_cents

DATE_PARAMS = [
    OpenApiParameter(
        "date_from",
        type=OpenApiTypes.DATE,
        description="ISO date (YYYY-MM-DD), inclusive, on executed_at",
    ),
    OpenApiParameter(
        "date_to",
        type=OpenApiTypes.DATE,
        description="ISO date (YYYY-MM-DD), inclusive, on executed_at; not before date_from",
    ),
]
ERRORS = {  # shop.schema gives each its JSON body
    400: OpenApiResponse(description="A bad date, or date_from after date_to."),
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Not in the Analysts role."),
}


class ReportView(APIView):
    permission_classes = [IsAuthenticated, CanViewReports]
    renderer_classes = [ORJSONRenderer]
    query_serializer_class = serializers.DateRangeSerializer

    def query(self, request) -> dict:
        query = self.query_serializer_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data


class ProfitView(ReportView):
    @extend_schema(
        operation_id="analytics_profit",
        parameters=DATE_PARAMS,
        responses={200: serializers.ProfitSerializer, **ERRORS},
        description="Revenue, cost and profit of the executed orders in the range.",
    )
    def get(self, request):
        summary = selectors.profit_summary(**self.query(request))
        return Response(
            {
                "revenue": money(summary.revenue),
                "cost": money(summary.cost),
                "profit": money(summary.profit),
                "executed_orders": summary.executed_orders,
                "units_sold": summary.units_sold,
            }
        )


class ProductSalesView(ReportView):
    query_serializer_class = serializers.ProductSalesQuerySerializer

    @extend_schema(
        operation_id="analytics_product_sales",
        parameters=[
            *DATE_PARAMS,
            OpenApiParameter(
                "limit",
                type={"type": "integer", "minimum": 1, "maximum": 100000},
                description="Only the first N products.",
            ),
        ],
        responses={200: serializers.ProductSalesSerializer, **ERRORS},
        description="Each product sold in the range, highest revenue first.",
    )
    def get(self, request):
        rows, units_shares, revenue_shares = selectors.product_sales_rows(
            **self.query(request), category_names=False
        )
        return Response(
            {
                "results": _product_objects(
                    rows, percent_of_units=units_shares, percent_of_revenue=revenue_shares
                )
            }
        )


def _product_objects(rows: list[tuple], **shares: list[int]) -> list[dict]:
    """The product objects of the sales answers, from sales_by_product's tuples, each with
    its shares (hundredths of a percent, one list per field) as percent texts.

    Shaped in one comprehension, not a helper call per product: a report may list every
    product.
    """
    products = [
        {
            "product_id": product_id,
            "product_name": product_name,
            "units_sold": units_sold,
            "revenue": money_from_cents(revenue),
        }
        for product_id, product_name, _, _, units_sold, revenue, _ in rows
    ]
    for name, values in shares.items():
        for product, share in zip(products, values, strict=True):
            product[name] = PERCENT_TEXTS[share]
    return products


class CategorySalesView(ReportView):
    @extend_schema(
        operation_id="analytics_category_sales",
        parameters=DATE_PARAMS,
        responses={200: serializers.CategorySalesSerializer, **ERRORS},
        description="Each category with sales in the range and its products' shares.",
    )
    def get(self, request):
        rows = selectors.category_sales(**self.query(request))
        return Response(
            {
                "results": [
                    {
                        "category_id": c.category_id,
                        "category_name": c.category_name,
                        "units_sold": c.units_sold,
                        "revenue": money_from_cents(c.revenue_cents),
                        "profit": money_from_cents(c.profit_cents),
                        "percent_of_revenue": PERCENT_TEXTS[c.revenue_share],
                        "products": _product_objects(c.rows, percent_of_category=c.shares),
                    }
                    for c in rows
                ]
            }
        )
