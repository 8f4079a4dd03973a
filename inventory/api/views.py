from functools import cached_property

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from inventory import selectors, services
from inventory.api import serializers as s
from inventory.api.filters import ProductFilter, SingleLineSearchFilter, StableOrderingFilter
from inventory.api.pagination import ProductPagination
from inventory.api.permissions import ReadAnyoneWriteModelPermission
from inventory.models import Category, Product

PRODUCT_FILTER_BACKENDS = [DjangoFilterBackend, SingleLineSearchFilter, StableOrderingFilter]


class ProductListMixin:
    """Filters, search, ordering and the fast paginated list shared by products/ and
    categories/{id}/products/."""

    pagination_class = ProductPagination

    # Query parameters that do not change which products match (so not the count).
    NOT_FILTERS = frozenset({"page", "page_size", "ordering"})

    def product_filter_queryset(self, queryset):
        """`queryset` filtered, searched, then ordered as the query parameters ask.

        Which products match depends on `count_key` alone, so the filtered and searched
        queryset (unevaluated: SQL conditions, never rows) is built once per key and worker
        and reused: django-filter's FilterSet, its form and their validation cost more CPU
        than the page's query itself. Invalid parameters raise (400) and are never kept.
        `queryset` must be the view's get_queryset(), which count_key already assumes.
        """
        matching = selectors.compiled_once(
            ("matching", type(self), self.count_key), lambda: self._matching_queryset(queryset)
        )
        return StableOrderingFilter().filter_queryset(self.request, matching, self)

    def _matching_queryset(self, queryset):
        if any(name in self.request.query_params for name in ProductFilter.base_filters):
            queryset = DjangoFilterBackend().filter_queryset(self.request, queryset, self)
        return SingleLineSearchFilter().filter_queryset(self.request, queryset, self)

    @cached_property  # for this request: a view instance serves one
    def count_key(self) -> str:
        """Who sees what (staff or not) and the filters: what the page's `count` depends on."""
        params = self.request.query_params
        filters = sorted((k, params.getlist(k)) for k in params if k not in self.NOT_FILTERS)
        staff = selectors.user_is_staff(self.request.user)
        return repr((self.request.path, staff, filters))

    def product_list_response(self):
        rows = self.paginate_queryset(self.product_pages())
        return self.get_paginated_response(rows)

    def product_pages(self) -> selectors.ProductPages:
        """The list's rows, page by page, with their SELECT compiled once per worker.

        The compiled query depends on which products match (`count_key`, which also says
        whether the caller is staff), the `ordering` parameter and whether rows carry `cost`:
        on a repeated request neither the queryset nor its SQL is built again, only the page is
        read. The first request for a key builds the filtered queryset, so invalid parameters
        still raise (400) and are never kept.
        """
        with_cost = selectors.user_is_staff(self.request.user)
        ordering = self.request.query_params.get(StableOrderingFilter.ordering_param)
        return selectors.compiled_once(
            ("pages", type(self), self.count_key, ordering, with_cost),
            lambda: selectors.ProductPages(
                self.product_filter_queryset(self.get_queryset()), with_cost=with_cost
            ),
        )


PRODUCT_LIST_DESCRIPTION = (
    "Products, paginated. Staff also see `cost`; archived products are hidden from customers."
)


@extend_schema_view(
    list=extend_schema(
        description=PRODUCT_LIST_DESCRIPTION, responses=s.ProductAnswerSerializer(many=True)
    ),
    retrieve=extend_schema(
        description="A product. Staff also see `cost`.", responses=s.ProductAnswerSerializer
    ),
)
class ProductViewSet(ProductListMixin, viewsets.ModelViewSet):
    permission_classes = [ReadAnyoneWriteModelPermission]
    filter_backends = PRODUCT_FILTER_BACKENDS
    filterset_class = ProductFilter
    search_fields = ["name", "sku"]
    ordering_fields = ["name", "price", "quantity"]
    ordering = ["name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.product_queryset(user=self.request.user)

    def filter_queryset(self, queryset):
        # The list filters through product_list_response; one product is found by id alone.
        return queryset

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return s.ProductWriteSerializer
        if selectors.user_is_staff(self.request.user):
            return s.StaffProductSerializer
        return s.ProductSerializer

    def list(self, request, *args, **kwargs):
        return self.product_list_response()

    def retrieve(self, request, *args, **kwargs):
        return Response(self._product_data(self.kwargs["pk"]))

    def _product_data(self, pk) -> dict:
        """The product as the list shows it (same columns, same shape), or 404."""
        row = selectors.product_row(pk=int(pk), user=self.request.user)
        if row is None:
            raise NotFound()
        return row

    @extend_schema(
        request=s.ProductWriteSerializer,
        responses={201: s.StaffProductSerializer},
        description="Create a product; an initial `quantity` is recorded as a stock movement.",
    )
    def create(self, request, *args, **kwargs):
        data = s.ProductWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(**data.validated_data, actor=request.user)
        return Response(self._product_data(product.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ProductWriteSerializer,
        responses={200: s.StaffProductSerializer},
        description="Change a product; a new `quantity` is recorded as a stock movement.",
    )
    def partial_update(self, request, *args, **kwargs):
        product = self.get_object()
        data = s.ProductWriteSerializer(product, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.product_update(product=product, data=data.validated_data, actor=request.user)
        return Response(self._product_data(product.pk))

    @extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(s.PRODUCT_HAS_SALES, description="`product_has_sales`"),
        },
        description="Delete a product; 409 when it was ever ordered (archive it instead).",
    )
    def destroy(self, request, *args, **kwargs):
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CategoryViewSet(viewsets.ModelViewSet):
    permission_classes = [ReadAnyoneWriteModelPermission]
    serializer_class = s.CategorySerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"
    filter_backends = []

    def get_queryset(self):
        return Category.objects.order_by("name")

    def _category_data(self, category: Category, *, cached: bool = True):
        selectors.category_with_counts([category], user=self.request.user, cached=cached)
        return s.CategorySerializer(category).data

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        categories = selectors.category_with_counts(page, user=request.user)
        return self.get_paginated_response(s.CategorySerializer(categories, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self._category_data(self.get_object()))

    @extend_schema(request=s.CategoryWriteSerializer, responses={201: s.CategorySerializer})
    def create(self, request, *args, **kwargs):
        data = s.CategoryWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(**data.validated_data)
        data = self._category_data(category, cached=False)
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CategoryWriteSerializer, responses={200: s.CategorySerializer})
    def partial_update(self, request, *args, **kwargs):
        category = self.get_object()
        data = s.CategoryWriteSerializer(category, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            services.category_update(category=category, name=data.validated_data["name"])
        return Response(self._category_data(category, cached=False))

    @extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(s.CATEGORY_HAS_SALES, description="`category_has_sales`"),
        },
        description="Delete the category and its products; 409 when one was ever ordered.",
    )
    def destroy(self, request, *args, **kwargs):
        category = self.get_object()
        services.category_delete(category=category)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    description="This category's products, with the filters of products/. "
    + PRODUCT_LIST_DESCRIPTION,
    responses=s.ProductAnswerSerializer(many=True),
)
class CategoryProductsView(ProductListMixin, generics.ListAPIView):
    permission_classes = [ReadAnyoneWriteModelPermission]
    filter_backends = PRODUCT_FILTER_BACKENDS
    filterset_class = ProductFilter
    search_fields = ProductViewSet.search_fields
    ordering_fields = ProductViewSet.ordering_fields
    ordering = ProductViewSet.ordering

    def get_serializer_class(self):
        if selectors.user_is_staff(self.request.user):
            return s.StaffProductSerializer
        return s.ProductSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        return selectors.product_queryset(user=self.request.user).filter(
            category_id=self.kwargs["pk"]
        )

    def list(self, request, *args, **kwargs):
        get_object_or_404(Category.objects.only("pk"), pk=kwargs["pk"])
        return self.product_list_response()
