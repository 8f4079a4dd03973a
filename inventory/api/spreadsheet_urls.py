"""Included in shop/api.py before inventory.api.urls, so `products/import/` is not a product id."""

from django.urls import path

from inventory.api.spreadsheet_views import ImportJobView, ProductExportView, ProductImportView

urlpatterns = [
    path("products/import/", ProductImportView.as_view(), name="product-import"),
    path("products/export/", ProductExportView.as_view(), name="product-export"),
    path("products/imports/<int:pk>/", ImportJobView.as_view(), name="product-import-job"),
]
