"""Bench-only URLs: the project's, plus what a default DRF project would serve.

`bench/catalog.py` runs gunicorn with bench.catalog_settings (ROOT_URLCONF = this module), so the
catalog and the baseline answer from the same server, database and rows. Never used by the shop.
"""

from django.http import JsonResponse
from django.urls import path
from rest_framework import generics, pagination, permissions, serializers

from inventory.models import Product
from shop.urls import urlpatterns as shop_urls


class PlainProductSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "category", "category_name", "price", "quantity"]
        fields += ["is_active"]


class PlainPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class PlainProductList(generics.ListAPIView):
    """A plain DRF list: ListAPIView + ModelSerializer + PageNumberPagination."""

    permission_classes = [permissions.AllowAny]
    serializer_class = PlainProductSerializer
    pagination_class = PlainPagination

    def get_queryset(self):
        return Product.objects.filter(is_active=True).select_related("category").order_by("name")


def bare(request):
    """No database, no DRF: the server's own ceiling on this machine, in the same run."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("bench/plain-products/", PlainProductList.as_view()),
    path("bench/bare/", bare),
    *shop_urls,
]
