from django.core.paginator import InvalidPage, Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound

from inventory.selectors import ProductPages, product_count
from shop.pagination import PageNumberPagination


class ProductPaginator(Paginator):
    """Pages of a `ProductPages`: slicing it reads the page's rows."""

    object_list: ProductPages
    count_key = None

    @cached_property
    def count(self):
        return product_count(self.object_list.products, key=self.count_key)


class ProductPagination(PageNumberPagination):
    """The project's pagination (page, page_size ≤ 100) of an `inventory.selectors.ProductPages`,
    returning the page's rows, and counting through `inventory.selectors.product_count` (cached).

    One COUNT (often cached) and one SELECT … LIMIT of exactly the columns the response needs,
    without model instances; Django's Paginator still decides the page's bounds and its 404.
    """

    django_paginator_class = ProductPaginator

    def paginate_queryset(self, queryset: ProductPages, request, view=None) -> list[dict]:
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        paginator.count_key = getattr(view, "count_key", None)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number)) from exc
        return self.page.object_list
