from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django_countries import countries

from inventory.models import MAX_ID
from orders import selectors, services
from orders.models import Order, OrderEvent, OrderLine, Payment
from shop.admin import (
    LookupCheckingAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    RelatedLinksMixin,
)
from shop.errors import DomainError
from shop.money import money

# Links from an order's page to other screens, for viewers who may open them (an Order
# manager sees a line's product and an event's staff actor as text).
PRODUCT_LINK = ("admin:inventory_product_change", "inventory.view_product", None)
USER_LINK = ("admin:accounts_user_change", "accounts.view_user", None)
CUSTOMER_LINK = ("admin:accounts_customer_change", "accounts.view_customer", None)


class OrderLineInline(RelatedLinksMixin, ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = ["product", "quantity", "unit_price", "unit_cost"]
    related_links = {"product": PRODUCT_LINK}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


# What an Order manager reads of a payment attempt, on the order's page and on its own.
ATTEMPT_FIELDS = ["state", "amount", "gateway", "reference", "idempotency_key", "last_error"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    verbose_name_plural = "payment attempts"
    fields = readonly_fields = ["created_at", *ATTEMPT_FIELDS, "updated_at"]


class OrderEventInline(RelatedLinksMixin, ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ["created_at", "type", "actor", "data"]
    related_links = {"actor": USER_LINK}

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


class CountryFilter(admin.SimpleListFilter):
    """The shipping countries that occur, by name (the column shows names too)."""

    title = "shipping country"
    parameter_name = "shipping_country"

    def lookups(self, request, model_admin):
        codes = Order.objects.order_by().values_list("shipping_country", flat=True).distinct()
        return sorted(((code, countries.name(code) or code) for code in codes), key=lambda c: c[1])

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(shipping_country=self.value())
        return queryset


@admin.register(Payment)
class PaymentAdmin(LookupCheckingAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every payment attempt, read-only, for Order managers: what happened to the money."""

    # Fits a 1366-pixel screen: the gateway is a filter and on each attempt's page.
    list_display = ["id", "order", "state", "amount", "reference", "updated"]
    list_filter = [UnfinishedPaymentFilter, "state", "gateway"]

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj):
        return short_datetime(obj.updated_at)

    search_fields = ["=order__id", "reference", "idempotency_key"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    fields = readonly_fields = [
        "order",
        *ATTEMPT_FIELDS,
        "in_flight_until",
        "created_at",
        "updated_at",
    ]


def short_datetime(value) -> str:
    """2026-09-11 21:42 in the site's time zone: a list's date column stays narrow."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


# The two state changes staff make, each through its service and a confirmation page.
STAFF_CHANGES = {
    "refund": {
        "service": services.order_refund,
        "status": Order.Status.EXECUTED,
        "title": "Refund and restock",
        "explain": "Each order's payment is refunded, its stock comes back and it leaves the "
        "sales figures.",
        "button": "Yes, refund and restock",
        "done": "Refunded and restocked",
        "skipped": "Not executed, left as they were",
        "action": "refund_and_restock",
    },
    "cancel": {
        "service": services.order_cancel,
        "status": Order.Status.PENDING,
        "title": "Cancel",
        "explain": "Each pending order is cancelled; nothing was charged or taken from stock.",
        "button": "Yes, cancel",
        "done": "Cancelled",
        "skipped": "Not pending, left as they were",
        "action": "cancel_pending",
    },
}


@admin.register(Order)
class OrderAdmin(LookupCheckingAdminMixin, RelatedLinksMixin, admin.ModelAdmin):
    """For Order managers: orders are read-only here; refunds and cancellations go through a
    confirmation page (from the order's own page or the list's actions), call the same
    services as the API and are written to the admin history."""

    # What fits a 1366-pixel screen beside the filters: short dates, the country by name.
    list_display = [
        "number",
        "customer_email",
        "status",
        "country",
        "order_total",
        "placed",
        "executed",
    ]
    list_filter = [
        "status",
        UnfinishedPaymentFilter,
        CountryFilter,
        ("executed_at", admin.DateFieldListFilter),
    ]
    search_fields = ["=id", "customer__email"]
    search_help_text = "Order number (e.g. 42 or #42) or customer email"
    list_select_related = ["customer"]
    related_links = {"customer": CUSTOMER_LINK}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(selectors.order_lines_prefetch())

    @admin.display(description="total")
    def order_total(self, obj):
        """As the API shows it: a pending order at its products' current prices."""
        return money(selectors.order_total(obj))

    def get_search_results(self, request, queryset, search_term):
        """An order number finds that order only, not every email that contains the digits."""
        number = search_term.strip().lstrip("#")
        # ASCII digits only: "²".isdigit() is true, and int("²") a ValueError (a 500).
        if number.isascii() and number.isdigit() and int(number) <= MAX_ID:
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

    @admin.display(description="order", ordering="id")
    def number(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="customer", ordering="customer__email")
    def customer_email(self, obj):
        return obj.customer.email

    @admin.display(description="country", ordering="shipping_country")
    def country(self, obj):
        return obj.shipping_country.name

    @admin.display(description="placed", ordering="created_at")
    def placed(self, obj):
        return short_datetime(obj.created_at)

    @admin.display(description="executed", ordering="executed_at")
    def executed(self, obj):
        return short_datetime(obj.executed_at)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/refund/", view(self.refund_view), name=f"{name}_refund"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name=f"{name}_cancel"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing to save by hand: every field is read-only, changes go through the buttons.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            can_change = self.has_change_permission(request, obj)
            context |= {
                "title": f"Order #{obj.pk}",
                "subtitle": f"{obj.get_status_display()} · total "
                f"{money(selectors.order_total(obj))}",
                "can_refund": can_change and obj.status == Order.Status.EXECUTED,
                "can_cancel": can_change and obj.status == Order.Status.PENDING,
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- refund and cancel: a confirmation page, then the service ---------------------------

    def refund_view(self, request, object_id):
        return self._one_order_view(request, object_id, "refund")

    def cancel_view(self, request, object_id):
        return self._one_order_view(request, object_id, "cancel")

    def _one_order_view(self, request, object_id, change: str):
        # get_object() answers None for an id that is not a key ("abc", "1.5"), as for an
        # unknown one: Django's own pages then say the order does not exist.
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        queryset = self.get_queryset(request).filter(pk=order.pk)
        page = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[order.pk]
        )
        if request.method == "POST":
            self._apply(request, queryset, change)
            return HttpResponseRedirect(page)
        return self._confirmation(request, queryset, change, cancel_url=page)

    @admin.action(description="Refund and restock selected executed orders", permissions=["change"])
    def refund_and_restock(self, request, queryset):
        if request.POST.get("post") == "yes":
            return self._apply(request, queryset, "refund")
        return self._confirmation(request, queryset, "refund", cancel_url=request.get_full_path())

    @admin.action(description="Cancel selected pending orders", permissions=["change"])
    def cancel_pending(self, request, queryset):
        if request.POST.get("post") == "yes":
            return self._apply(request, queryset, "cancel")
        return self._confirmation(request, queryset, "cancel", cancel_url=request.get_full_path())

    def _confirmation(self, request, queryset, change: str, *, cancel_url: str):
        """The orders that would change and their amounts, and those that would not, before
        anything happens."""
        spec = STAFF_CHANGES[change]
        orders = list(queryset.select_related("customer").order_by("pk"))  # lines prefetched
        for order in orders:
            order.amount = selectors.order_total(order)
        eligible = [o for o in orders if o.status == spec["status"]]
        skipped = [o for o in orders if o.status != spec["status"]]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{spec['title']} {len(eligible)} order{'s' if len(eligible) != 1 else ''}?",
            "spec": spec,
            "change": change,
            "eligible": eligible,
            "skipped": skipped,
            "amount": money(sum((o.amount for o in eligible), start=0)),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "from_action": request.POST.get("action") == spec["action"],
            "cancel_url": cancel_url,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/orders/order/confirm_change.html", context)

    def _apply(self, request, queryset, change: str):
        spec = STAFF_CHANGES[change]
        changed, skipped_ids = 0, []
        for order in queryset.order_by("pk"):
            if order.status != spec["status"]:
                skipped_ids.append(order.pk)
                continue
            try:
                with transaction.atomic():
                    spec["service"](order=order, actor=request.user)
                    self.log_change(request, order, spec["done"])
            except DomainError as exc:  # changed by someone else meanwhile
                self.message_user(request, f"Order #{order.pk}: {exc.detail}", messages.WARNING)
                continue
            changed += 1
        if changed:
            self.message_user(request, f"{spec['done']}: {changed} order(s).", messages.SUCCESS)
        if skipped_ids:
            ids = ", ".join(f"#{pk}" for pk in skipped_ids)
            self.message_user(request, f"{spec['skipped']}: {ids}.", messages.WARNING)
