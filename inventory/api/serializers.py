from decimal import Decimal

from django.db import models
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from inventory.models import Category, Product
from shop.fields import SingleLineCharField
from shop.schema import domain_error

# Written names and SKUs refuse control characters as sent (before DRF trims them).
SINGLE_LINE_FIELDS = {**serializers.ModelSerializer.serializer_field_mapping}
SINGLE_LINE_FIELDS[models.CharField] = SingleLineCharField


class CategorySerializer(serializers.ModelSerializer):
    product_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "product_count"]


class CategoryWriteSerializer(serializers.ModelSerializer):
    """`name`; a name taken in any case is refused by the service (400)."""

    serializer_field_mapping = SINGLE_LINE_FIELDS

    class Meta:
        model = Category
        fields = ["name"]


class ProductSerializer(serializers.ModelSerializer):
    """A product as customers see it (and staff, plus `cost`: see StaffProductSerializer)."""

    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "category", "category_name", "price", "quantity"]
        fields += ["is_active"]
        read_only_fields = fields


class StaffProductSerializer(ProductSerializer):
    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "cost"]
        read_only_fields = fields


@extend_schema_serializer(component_name="Product")
class ProductAnswerSerializer(StaffProductSerializer):
    """The schema of every product answer: a customer's has no `cost`, staff's have it.

    (The answers themselves are shaped by inventory.selectors, as ProductSerializer and
    StaffProductSerializer describe.)"""

    # Not read-only here, so that the schema does not list it as required.
    cost = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, help_text="Staff only."
    )


PRODUCT_HAS_SALES = domain_error("ProductHasSales", "product_has_sales")
CATEGORY_HAS_SALES = domain_error("CategoryHasSales", "category_has_sales")


class ProductWriteSerializer(serializers.ModelSerializer):
    """POST (sku, name, category, price required) and PATCH (any of them) of a product."""

    serializer_field_mapping = SINGLE_LINE_FIELDS

    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    cost = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False
    )
    quantity = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)

    class Meta:
        model = Product
        fields = ["sku", "name", "category", "price", "cost", "quantity", "is_active"]

    def validate_price(self, value):
        if value <= 0:
            raise serializers.ValidationError("Price must be greater than 0.")
        return value
