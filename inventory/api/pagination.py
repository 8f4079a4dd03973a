from django.core.paginator import InvalidPage, Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound

from inventory.selectors import product_count
from shop.pagination import PageNumberPagination


class ProductPaginator(Paginator):
    count_key = None

    @cached_property
    def count(self):
        return product_count(self.object_list, key=self.count_key)


class ProductPagination(PageNumberPagination):
    """The project's pagination (page, page_size ≤ 100), returning the page as an unevaluated
    sliced queryset, and counting through `inventory.selectors.product_count` (cached).

    The view then reads exactly the columns it needs from it (`inventory.selectors.product_rows`)
    instead of building model instances: one COUNT (often cached) and one SELECT … LIMIT.
    """

    django_paginator_class = ProductPaginator

    def paginate_queryset(self, queryset, request, view=None):
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
