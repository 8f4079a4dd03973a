from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.html import format_html
from rest_framework_simplejwt.token_blacklist import admin as token_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Customer, User
from orders.models import Order
from shop.admin import LookupCheckingAdminMixin, ReadOnlyAdminMixin
from shop.money import money


class ShopUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class ShopUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(LookupCheckingAdminMixin, BaseUserAdmin):
    form = ShopUserChangeForm
    add_form = ShopUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login", "deleted_at"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined", "deleted_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


class AccountStateFilter(admin.SimpleListFilter):
    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("closed", "Deleted or deactivated")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "closed"):
            return queryset.filter(is_active=self.value() == "active")
        return queryset


@admin.register(Customer)
class CustomerAdmin(LookupCheckingAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customers, read-only, for order support (Order managers): who they are and what they
    bought. Never the password hash, nor permissions."""

    list_display = ["email", "full_name", "date_joined", "orders_count", "spent"]
    search_fields = ["email", "full_name"]
    search_help_text = "Email or name"
    list_filter = [AccountStateFilter]
    fields = ["email", "full_name", "date_joined", "is_active", "orders_count", "spent", "orders"]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(is_staff=False)
            .annotate(
                order_count=Count("orders"),
                total_spent=Sum("orders__total", filter=Q(orders__status=Order.Status.EXECUTED)),
            )
        )

    @admin.display(description="orders", ordering="order_count")
    def orders_count(self, obj):
        return obj.order_count

    @admin.display(description="total spent", ordering="total_spent")
    def spent(self, obj):
        return money(obj.total_spent or 0)

    @admin.display(description="their orders")
    def orders(self, obj):
        url = reverse("admin:orders_order_changelist") + f"?customer__id__exact={obj.pk}"
        return format_html('<a href="{}">All orders of this customer</a>', url)


# Django's and simplejwt's own screens, with the project's changelist: a URL lookup the
# database refuses shows the unfiltered list, not a 500 (shop.admin.LookupCheckingAdminMixin).
for _model, _base in (
    (Group, BaseGroupAdmin),
    (OutstandingToken, token_admin.OutstandingTokenAdmin),
    (BlacklistedToken, token_admin.BlacklistedTokenAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(_model, type(_base.__name__, (LookupCheckingAdminMixin, _base), {}))
