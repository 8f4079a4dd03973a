from decimal import Decimal

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

from inventory.models import MAX_ID, Product
from shop.validators import has_control_characters, no_control_characters

# `true` / `false` only: anything else is a 400, not silently ignored.
BOOLEAN = [("true", "true"), ("false", "false")]
# A price as the API writes money: digits, then at most two decimals ("19.90", "5").
MONEY_PATTERN = r"^\d{1,8}(\.\d{1,2})?$"


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


@extend_schema_field({"type": "boolean"})
class TrueFalseFilter(django_filters.ChoiceFilter):
    """A boolean query parameter: `true` or `false`, anything else a 400."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=BOOLEAN, **kwargs)


class MoneyField(forms.RegexField):
    """Money in a query parameter, exactly as MONEY_PATTERN says (no exponent, no spaces)."""

    def __init__(self, **kwargs):
        super().__init__(MONEY_PATTERN, strip=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return Decimal(value) if value not in self.empty_values else None


@extend_schema_field({"type": "string", "format": "decimal", "pattern": MONEY_PATTERN})
class MoneyFilter(django_filters.Filter):
    field_class = MoneyField


class ProductFilter(django_filters.FilterSet):
    """API.md's product filters. `category` is compared by id (no lookup query)."""

    category = IdFilter(field_name="category_id", min_value=1, max_value=MAX_ID)
    min_price = MoneyFilter(field_name="price", lookup_expr="gte")
    max_price = MoneyFilter(field_name="price", lookup_expr="lte")
    in_stock = TrueFalseFilter(method="filter_in_stock")
    is_active = TrueFalseFilter(
        method="filter_is_active", help_text="Customers only see active ones."
    )

    class Meta:
        model = Product
        fields = ["category", "min_price", "max_price", "in_stock", "is_active"]

    def get_form_class(self):
        # django-filter builds a new form class per request; the fields never change, so build
        # it once (each form instance still deep-copies its fields, as Django forms do).
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_in_stock(self, queryset, name, value):
        if value == "true":
            return queryset.filter(quantity__gt=0)
        return queryset.filter(quantity=0)

    def filter_is_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "true")


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` with the primary key as tie-breaker, so pages never overlap or skip rows.

    The tie-breaker follows the direction of the last key: `price, id` and `-price, -id` are
    both served by the (price, id) index, forwards or backwards.
    """

    def get_ordering(self, request, queryset, view):
        """The view's `ordering_fields`, one of them, `-` for descending; anything else a 400."""
        param = request.query_params.get(self.ordering_param)
        if param is not None and param not in self.choices(view):
            choices = ", ".join(self.choices(view))
            raise ValidationError({self.ordering_param: [f"Order by one of: {choices}."]})
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and ordering[-1].lstrip("-") not in ("id", "pk", "name", "sku"):
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return ordering

    @staticmethod
    def choices(view) -> list[str]:
        return [f"{sign}{name}" for name in view.ordering_fields for sign in ("", "-")]

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Order by this field, `-` for descending.",
                "schema": {"type": "string", "enum": self.choices(view)},
            }
        ]


class SingleLineSearchFilter(SearchFilter):
    """`?search=` as DRF's SearchFilter, but a control character in it is a 400 naming
    `search` (API.md), not a silently changed query."""

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        if has_control_characters(value):
            raise ValidationError(
                {self.search_param: [no_control_characters.message]},
                code=no_control_characters.code,
            )
        return super().get_search_terms(request)
