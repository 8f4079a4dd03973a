from django.contrib import admin

from inventory.admin_spreadsheets import ProductSpreadsheetAdminMixin
from inventory.models import Product


@admin.register(Product)
class ProductAdmin(ProductSpreadsheetAdminMixin, admin.ModelAdmin):
    list_display = ("name", "sku", "category", "price", "quantity", "is_active")
    list_select_related = ("category",)
    search_fields = ("name", "sku")
