"""The Inventory managers' screens. Writes go through inventory.services; quantity only
through the stock ledger (product_set_quantity), so every edit leaves a movement."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from inventory import selectors, services
from inventory.admin_jobs import ImportJobAdmin  # noqa: F401  (registers it)
from inventory.admin_spreadsheets import ProductSpreadsheetAdminMixin
from inventory.models import Category, Product, ProductChange, StockMovement
from shop.admin import (
    FieldConstraintErrorsForm,
    LookupCheckingAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    RelatedLinksMixin,
)

# Who moved the stock and for which order: links only for viewers who may open those pages.
MOVEMENT_LINKS = {
    "actor": ("admin:accounts_user_change", "accounts.view_user", None),
    "order": ("admin:orders_order_change", "orders.view_order", "Order #{}"),
}


class LedgerCascadeMixin:
    """Deleting a product deletes its stock movements with it: that needs no permission on the
    (read-only) ledger. Deletes go through the services, one object at a time."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(StockMovement._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        self.delete_service(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_service(obj)


@admin.register(Category)
class CategoryAdmin(LookupCheckingAdminMixin, LedgerCascadeMixin, admin.ModelAdmin):
    list_display = ["name", "product_count", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="products", ordering="product_count")
    def product_count(self, obj):
        return obj.product_count

    def save_model(self, request, obj, form, change):
        if change:
            services.category_update(category=obj, name=form.cleaned_data["name"])
        else:
            _adopt(obj, services.category_create(name=form.cleaned_data["name"]))

    @staticmethod
    def delete_service(obj):
        services.category_delete(category=obj)


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [
            ("out", "Out of stock"),
            ("low", f"Low (under {settings.LOW_STOCK_THRESHOLD})"),
            ("in", "In stock"),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("out", "low", "in"):
            return queryset.filter(selectors.stock_level_filter(self.value()))
        return queryset


class StockMovementInline(RelatedLinksMixin, ReadOnlyInline):
    """The product's ledger, read-only (the newest first)."""

    model = StockMovement
    fields = ["created_at", "change", "quantity_after", "reason", "actor", "order", "note"]
    readonly_fields = fields
    related_links = MOVEMENT_LINKS
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="order")
    def order(self, obj):
        """Plain text; RelatedLinksMixin makes it a link per request for who may open orders."""
        return f"Order #{obj.order_id}" if obj.order_id is not None else "-"


class ProductChangeInline(RelatedLinksMixin, ReadOnlyInline):
    """The product's catalog edits, read-only (the newest first)."""

    model = ProductChange
    fields = readonly_fields = ["created_at", "actor", "changes"]
    related_links = {"actor": MOVEMENT_LINKS["actor"]}
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Product)
class ProductAdmin(
    LookupCheckingAdminMixin, ProductSpreadsheetAdminMixin, LedgerCascadeMixin, admin.ModelAdmin
):
    # What fits a 1366-pixel screen beside the filters (the last change is on each product's
    # page).
    list_display = [
        "sku",
        "name",
        "category",
        "price",
        "cost",
        "quantity",
        "stock_level",
        "is_active",
    ]
    form = FieldConstraintErrorsForm
    list_display_links = ["sku", "name"]
    list_editable = ["price", "quantity", "is_active"]
    list_filter = [StockLevelFilter, "is_active", "category"]
    list_select_related = ["category"]
    search_fields = ["sku", "name"]
    autocomplete_fields = ["category"]
    fields = ["sku", "name", "category", "price", "cost", "quantity", "is_active", "movements"]
    readonly_fields = ["movements"]
    inlines = [StockMovementInline, ProductChangeInline]
    list_per_page = 50
    # Compact money inputs, so the editable list fits beside the filters.
    formfield_overrides = {
        models.DecimalField: {
            "widget": forms.NumberInput(attrs={"step": "0.01", "min": "0", "style": "width: 6em"})
        }
    }

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=FieldConstraintErrorsForm, **kwargs)

    @admin.display(description="stock")
    def stock_level(self, obj):
        return selectors.stock_level(obj.quantity)

    @admin.display(description="stock movements")
    def movements(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:inventory_stockmovement_changelist") + f"?product__id__exact={obj.pk}"
        return format_html('<a href="{}">All movements of this product</a>', url)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            # The form has already put the new values on `obj`; the service writes them (the
            # quantity through the stock ledger) and validates again.
            services.product_update(product=obj, data=data, actor=request.user)
        else:
            fields = [*services.PRODUCT_FIELDS, "quantity"]
            created = services.product_create(
                **{name: form.cleaned_data[name] for name in fields if name in form.cleaned_data},
                actor=request.user,
            )
            _adopt(obj, created)

    @staticmethod
    def delete_service(obj):
        services.product_delete(product=obj)


@admin.register(ProductChange)
class ProductChangeAdmin(
    LookupCheckingAdminMixin, RelatedLinksMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """The catalog's audit trail, read-only: rows are written by product_update only."""

    list_display = ["created_at", "product", "actor", "changes"]
    fields = readonly_fields = ["created_at", "product", "actor", "changes"]
    related_links = {"actor": MOVEMENT_LINKS["actor"]}
    list_select_related = ["product", "actor"]
    search_fields = ["product__sku", "product__name"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(StockMovement)
class StockMovementAdmin(
    LookupCheckingAdminMixin, RelatedLinksMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """The stock ledger, read-only: rows are written by the stock service only."""

    # Six columns fit a 1366-pixel screen beside the filters: the reason, the order, the import
    # batch and the note read as one "why"; every field is on the movement's own page.
    list_display = ["when", "item", "change", "after", "why", "actor"]
    related_links = MOVEMENT_LINKS
    fields = [
        "created_at",
        "product",
        "change",
        "quantity_after",
        "reason",
        "actor",
        "order",
        "import_batch",
        "note",
    ]
    readonly_fields = fields
    list_filter = ["reason", "created_at"]
    list_select_related = ["product", "actor"]
    search_fields = ["product__sku", "product__name", "note"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="order")
    def order(self, obj):
        """Plain text; RelatedLinksMixin makes it a link per request for who may open orders."""
        return f"Order #{obj.order_id}" if obj.order_id is not None else "-"

    @admin.display(description="why")
    def why(self, obj):
        """Replaced per request by get_list_display's column (with the order's link)."""
        return obj.get_reason_display()

    def get_list_display(self, request):
        order = self._related_column(request, "order")

        @admin.display(description="why")
        def why(obj):
            """The reason, then the order (a link for those who may open it), the import
            batch or the note."""
            reason = obj.get_reason_display()
            if obj.order_id is not None:
                if obj.reason == StockMovement.Reason.ORDER:
                    return format_html('<span class="nowrap">{}</span>', order(obj))
                return format_html('{} · <span class="nowrap">{}</span>', reason, order(obj))
            if obj.import_batch_id is not None:
                url = reverse("admin:inventory_importbatch_change", args=[obj.import_batch_id])
                return format_html(
                    '{} · <a href="{}">Import #{}</a>', reason, url, obj.import_batch_id
                )
            return format_html("{} · {}", reason, obj.note) if obj.note else reason

        return [why if name == "why" else name for name in super().get_list_display(request)]

    @admin.display(description="when", ordering="created_at")
    def when(self, obj):
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="product", ordering="product__name")
    def item(self, obj):
        """The name may wrap, the SKU never does."""
        return format_html('{} <span class="nowrap">{}</span>', obj.product.name, obj.product.sku)

    @admin.display(description="stock after", ordering="quantity_after")
    def after(self, obj):
        return obj.quantity_after


def _adopt(obj, created) -> None:
    """Make the admin's unsaved `obj` the row a service created (for its redirect and log)."""
    obj.pk = created.pk
    obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
    obj._state.adding = False
    obj._state.db = created._state.db
