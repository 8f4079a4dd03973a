from django.contrib import admin, messages
from django.db import transaction

from orders import selectors, services
from orders.models import Order, OrderEvent, OrderLine, Payment
from shop.admin import ReadOnlyAdminMixin, ReadOnlyInline
from shop.errors import DomainError
from shop.money import money


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = ["product", "quantity", "unit_price", "unit_cost"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class PaymentInline(ReadOnlyInline):
    model = Payment
    verbose_name_plural = "payment attempts"
    fields = readonly_fields = [
        "created_at",
        "state",
        "amount",
        "gateway",
        "reference",
        "idempotency_key",
        "last_error",
        "updated_at",
    ]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ["created_at", "type", "actor", "data"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class UnfinishedPaymentFilter(admin.SimpleListFilter):
    """Attempts whose money is not settled yet: a charge whose outcome is unknown, a void or a
    refund still to be sent. reconcile_payments settles them; these are what to watch."""

    title = "money"
    parameter_name = "money"

    def lookups(self, request, model_admin):
        return [("unfinished", "Unfinished (reconcile_payments settles them)")]

    def queryset(self, request, queryset):
        if self.value() == "unfinished":
            field = "state" if queryset.model is Payment else "payments__state"
            return queryset.filter(**{f"{field}__in": Payment.UNFINISHED}).distinct()
        return queryset


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every payment attempt, read-only, for Order managers: what happened to the money."""

    list_display = ["id", "order", "state", "amount", "gateway", "reference", "updated_at"]
    list_filter = [UnfinishedPaymentFilter, "state", "gateway"]
    search_fields = ["=order__id", "reference", "idempotency_key"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    fields = readonly_fields = [
        "order",
        "state",
        "amount",
        "gateway",
        "reference",
        "idempotency_key",
        "last_error",
        "in_flight_until",
        "created_at",
        "updated_at",
    ]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """For Order managers: orders are read-only here; state changes go through the actions,
    which call the same services as the API and are written to the admin history."""

    list_display = [
        "id",
        "customer__email",
        "status",
        "shipping_country",
        "order_total",
        "created_at",
        "executed_at",
    ]
    list_filter = [
        "status",
        UnfinishedPaymentFilter,
        ("shipping_country", admin.AllValuesFieldListFilter),
        ("executed_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=id", "customer__email"]
    search_help_text = "Order number (e.g. 42 or #42) or customer email"
    list_select_related = ["customer"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(selectors.order_lines_prefetch())

    @admin.display(description="total")
    def order_total(self, obj):
        """As the API shows it: a pending order at its products' current prices."""
        return money(selectors.order_total(obj))

    def get_search_results(self, request, queryset, search_term):
        """An order number finds that order only, not every email that contains the digits."""
        number = search_term.strip().lstrip("#")
        if number.isdigit():
            return queryset.filter(pk=int(number)), False
        return super().get_search_results(request, queryset, search_term)

    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = readonly_fields = [
        "customer",
        "status",
        "shipping_country",
        "total",
        "created_at",
        "executed_at",
        "cancelled_at",
        "refunded_at",
    ]
    inlines = [OrderLineInline, PaymentInline, OrderEventInline]
    actions = ["cancel_pending", "refund_and_restock"]

    def has_add_permission(self, request):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing to save by hand: every field is read-only, changes go through the actions.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False

    def _apply(self, request, queryset, *, service, done: str, skipped: str, status: str):
        changed, skipped_ids = 0, []
        for order in queryset.order_by("pk"):
            if order.status != status:
                skipped_ids.append(order.pk)
                continue
            try:
                with transaction.atomic():
                    service(order=order, actor=request.user)
                    self.log_change(request, order, done)
            except DomainError as exc:  # changed by someone else meanwhile
                self.message_user(request, f"Order {order.pk}: {exc.detail}", messages.WARNING)
                continue
            changed += 1
        if changed:
            self.message_user(request, f"{done}: {changed} order(s).", messages.SUCCESS)
        if skipped_ids:
            ids = ", ".join(map(str, skipped_ids))
            self.message_user(request, f"{skipped}: {ids}.", messages.WARNING)

    @admin.action(description="Cancel selected pending orders", permissions=["change"])
    def cancel_pending(self, request, queryset):
        self._apply(
            request,
            queryset,
            service=services.order_cancel,
            done="Cancelled",
            skipped="Not pending, left as they were",
            status=Order.Status.PENDING,
        )

    @admin.action(description="Refund and restock selected executed orders", permissions=["change"])
    def refund_and_restock(self, request, queryset):
        self._apply(
            request,
            queryset,
            service=services.order_refund,
            done="Refunded and restocked",
            skipped="Not executed, left as they were",
            status=Order.Status.EXECUTED,
        )
