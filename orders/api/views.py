from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from orders import selectors, services
from orders.api import serializers as s
from orders.models import Order

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
    OpenApiParameter.HEADER,
    description="1 to 255 characters, not only spaces. A retry with the same key from the same "
    "account within 24 hours gets the first answer again (with `Idempotent-Replayed: true`) and "
    "changes nothing; the same key with another body is 409 `idempotency_key_reused`.",
)
NOT_PENDING = OpenApiResponse(s.ORDER_NOT_PENDING, description="`order_not_pending`")
KEY_REUSED = OpenApiResponse(s.IDEMPOTENCY_KEY_REUSED, description="`idempotency_key_reused`")
EXECUTE_CONFLICT = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="ExecuteConflict",
        serializers={
            "insufficient_stock": s.INSUFFICIENT_STOCK,
            "order_not_pending": s.ORDER_NOT_PENDING,
            "idempotency_key_reused": s.IDEMPOTENCY_KEY_REUSED,
            "product_unavailable": s.PRODUCT_UNAVAILABLE,
            "payment_in_progress": s.PAYMENT_IN_PROGRESS,
        },
        resource_type_field_name="code",
    ),
    description="`insufficient_stock` (with `items`, nothing changed), `order_not_pending`, "
    "`idempotency_key_reused`, `product_unavailable` (a product was archived), "
    "`payment_in_progress` (another execution of this order is in flight)",
)


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Order.Status.choices)

    class Meta:
        model = Order
        fields = ["status"]


def _items(validated):
    return [services.OrderItem(product=i["product"], quantity=i["quantity"]) for i in validated]


@extend_schema(tags=["orders"])
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A customer's own orders. Another customer's order is 404 for every verb."""

    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        if self.action in ("list", "retrieve"):
            return selectors.order_list_for_customer(customer=self.request.user)
        return Order.objects.filter(customer=self.request.user)  # writes lock it again

    def _answer(self, order, status_code=status.HTTP_200_OK):
        order = selectors.order_list_for_customer(customer=self.request.user).get(pk=order.pk)
        return status_code, s.OrderSerializer(order).data

    def _idempotent(self, request, handler, *, resumable=False):
        """Run handler() once per Idempotency-Key (when sent) and answer its (status, body)."""
        key = request.headers.get("Idempotency-Key")
        if key is None:
            status_code, body = handler()
            return Response(body, status=status_code)
        if not key.strip() or len(key) > 255:
            raise ValidationError({"Idempotency-Key": ["Send 1 to 255 characters."]})
        fingerprint = services.idempotency_fingerprint(
            method=request.method, path=request.path, body=request.data
        )
        status_code, body, replayed = services.idempotent_call(
            user=request.user,
            key=key,
            fingerprint=fingerprint,
            handler=handler,
            resumable=resumable,
        )
        response = Response(body, status=status_code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=s.OrderWriteSerializer,
        responses={
            201: s.OrderSerializer,
            409: KEY_REUSED,
        },
    )
    def create(self, request):
        def handler():
            data = s.OrderWriteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            order = services.order_create(
                customer=request.user,
                shipping_country=data.validated_data["shipping_country"],
                items=_items(data.validated_data["items"]),
            )
            return self._answer(order, status.HTTP_201_CREATED)

        return self._idempotent(request, handler)

    @extend_schema(
        request=s.OrderWriteSerializer,
        responses={
            200: s.OrderSerializer,
            409: NOT_PENDING,
        },
    )
    def partial_update(self, request, pk=None):
        order = self.get_object()
        data = s.OrderUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data.get("items")
        order = services.order_update(
            order=order,
            actor=request.user,
            shipping_country=data.validated_data.get("shipping_country"),
            items=None if items is None else _items(items),
        )
        return Response(self._answer(order)[1])

    @extend_schema(request=None, responses={200: s.OrderSerializer, 409: NOT_PENDING})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = services.order_cancel(order=self.get_object(), actor=request.user)
        return Response(self._answer(order)[1])

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=s.OrderExecuteSerializer,
        responses={
            200: s.OrderSerializer,
            402: OpenApiResponse(
                s.PAYMENT_DECLINED, description="`payment_declined`: nothing changed"
            ),
            409: EXECUTE_CONFLICT,
            503: OpenApiResponse(
                s.PAYMENT_UNAVAILABLE,
                description="`payment_unavailable`: the gateway failed or did not answer in "
                "time; the order stays pending and may be executed again. "
                "`service_unavailable`: the database is unreachable or too slow",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def execute(self, request, pk=None):
        order = self.get_object()

        def handler():
            data = s.OrderExecuteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            executed = services.order_execute(
                order=order,
                actor=request.user,
                payment_token=data.validated_data.get("payment_token", ""),
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
            return status.HTTP_200_OK, s.OrderSerializer(executed).data

        return self._idempotent(request, handler, resumable=True)
