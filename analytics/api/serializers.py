from rest_framework import serializers

MONEY = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True}
PERCENT = {"max_digits": 5, "decimal_places": 2, "coerce_to_string": True}


class DateRangeSerializer(serializers.Serializer):
    """?date_from=&date_to= (ISO dates, inclusive, on executed_at); either may be left out."""

    date_from = serializers.DateField(required=False, input_formats=["iso-8601"])
    date_to = serializers.DateField(required=False, input_formats=["iso-8601"])

    def validate(self, attrs):
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"date_to": "date_to must not be before date_from."})
        return attrs


class ProductSalesQuerySerializer(DateRangeSerializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100000)


# Output shapes. The reports are built as plain dicts by analytics.selectors; these classes
# turn Decimals into the contract's strings and document the shapes in the OpenAPI schema.
class ProfitSerializer(serializers.Serializer):
    revenue = serializers.DecimalField(**MONEY)
    cost = serializers.DecimalField(**MONEY)
    profit = serializers.DecimalField(**MONEY)
    executed_orders = serializers.IntegerField()
    units_sold = serializers.IntegerField()


class ProductFiguresSerializer(serializers.Serializer):
    """What every per-product row of the reports carries."""

    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    units_sold = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)


class ProductSalesRowSerializer(ProductFiguresSerializer):
    percent_of_units = serializers.DecimalField(**PERCENT)
    percent_of_revenue = serializers.DecimalField(**PERCENT)


class ProductSalesSerializer(serializers.Serializer):
    results = ProductSalesRowSerializer(many=True)


class CategoryProductSerializer(ProductFiguresSerializer):
    percent_of_category = serializers.DecimalField(**PERCENT)


class CategorySalesRowSerializer(serializers.Serializer):
    category_id = serializers.IntegerField()
    category_name = serializers.CharField()
    units_sold = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    profit = serializers.DecimalField(**MONEY)
    percent_of_revenue = serializers.DecimalField(**PERCENT)
    products = CategoryProductSerializer(many=True)


class CategorySalesSerializer(serializers.Serializer):
    results = CategorySalesRowSerializer(many=True)
