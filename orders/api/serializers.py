from decimal import Decimal

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from inventory.models import MAX_ID, Product
from orders.models import Order, OrderLine
from orders.selectors import order_total
from shop.money import money
from shop.schema import domain_error

MONEY = serializers.DecimalField(max_digits=12, decimal_places=2)


class OrderItemSerializer(serializers.ModelSerializer):
    """A line as the customer sees it: a pending order shows the product's current price."""

    product_name = serializers.CharField(source="product.name", read_only=True)
    unit_price = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = ["product", "product_name", "quantity", "unit_price"]

    @extend_schema_field(MONEY)
    def get_unit_price(self, line) -> Decimal:
        price = line.product.price if line.order.status == Order.Status.PENDING else line.unit_price
        return money(price)


class OrderSerializer(serializers.ModelSerializer):
    shipping_country = serializers.CharField(source="shipping_country.code", read_only=True)
    items = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "shipping_country",
            "items",
            "total",
            "created_at",
            "executed_at",
        ]
        read_only_fields = fields

    def _lines(self, order):
        lines = list(order.lines.all())
        for line in lines:
            line.order = order  # no query per line for its order's status
        return lines

    @extend_schema_field(OrderItemSerializer(many=True))
    def get_items(self, order):
        return OrderItemSerializer(self._lines(order), many=True).data

    @extend_schema_field(MONEY)
    def get_total(self, order) -> Decimal:
        return money(order_total(order))


def _is_id(value) -> bool:
    """An int, or a string of decimal digits, that a product id could be (not bool, not '²')."""
    return type(value) in (int, str) and str(value).isdecimal() and 0 < int(value) <= MAX_ID


class ProductIdField(serializers.PrimaryKeyRelatedField):
    """A product by id, taken from `prefetched` when the items' list read them already: an id
    it did not find is unknown without another query."""

    prefetched: dict[int, Product] | None = None

    def to_internal_value(self, data):
        if self.prefetched is not None and _is_id(data):
            product = self.prefetched.get(int(data))
            if product is None:
                self.fail("does_not_exist", pk_value=data)
            return product
        return super().to_internal_value(data)  # DRF's own checks and messages


# API.md: an order has at most 100 items.
MAX_ORDER_ITEMS = 100


class OrderItemsInSerializer(serializers.ListSerializer):
    """An order's items, with all their products read in one query rather than one an item.

    The count is checked first, so a huge list is refused before anything is read."""

    def to_internal_value(self, data):
        if isinstance(data, list):
            if len(data) > MAX_ORDER_ITEMS:
                raise serializers.ValidationError(
                    [f"An order has at most {MAX_ORDER_ITEMS} items."], code="max_length"
                )
            ids = {
                int(item["product"])
                for item in data
                if isinstance(item, dict) and _is_id(item.get("product"))
            }
            self.child.fields["product"].prefetched = Product.objects.in_bulk(ids) if ids else {}
        return super().to_internal_value(data)


class OrderItemInSerializer(serializers.Serializer):
    product = ProductIdField(queryset=Product.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    class Meta:
        list_serializer_class = OrderItemsInSerializer


class OrderWriteSerializer(serializers.Serializer):
    """Only these fields are read: status, prices and totals are the server's."""

    shipping_country = CountryField()
    items = OrderItemInSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_ITEMS)


class OrderUpdateSerializer(OrderWriteSerializer):
    """PATCH: either field may be left out, but items sent are whole items. (DRF's
    `partial=True` would reach into the items and let `{"quantity": 1}` through.)"""

    shipping_country = CountryField(required=False)
    items = OrderItemInSerializer(
        many=True, allow_empty=False, max_length=MAX_ORDER_ITEMS, required=False
    )


class OrderExecuteSerializer(serializers.Serializer):
    payment_token = serializers.CharField(required=False, allow_blank=True, max_length=255)


class StockShortSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


# The error bodies of the orders API, one schema per `code` (see shop.schema.domain_error).
INSUFFICIENT_STOCK = domain_error(
    "InsufficientStock", "insufficient_stock", items=StockShortSerializer(many=True)
)
ORDER_NOT_PENDING = domain_error("OrderNotPending", "order_not_pending")
IDEMPOTENCY_KEY_REUSED = domain_error("IdempotencyKeyReused", "idempotency_key_reused")
PRODUCT_UNAVAILABLE = domain_error("ProductUnavailable", "product_unavailable")
PAYMENT_IN_PROGRESS = domain_error("PaymentInProgress", "payment_in_progress")
PAYMENT_DECLINED = domain_error("PaymentDeclined", "payment_declined")
PAYMENT_UNAVAILABLE = inline_serializer(
    name="PaymentUnavailable",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.ChoiceField(choices=["payment_unavailable", "service_unavailable"]),
    },
)
