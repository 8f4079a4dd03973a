from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound

from shop.pagination import PageNumberPagination


class LazyPageNumberPagination(PageNumberPagination):
    """The project's pagination, returning the page as an unevaluated sliced queryset.

    The view then reads exactly the columns it needs from it (`inventory.selectors.product_rows`)
    instead of building model instances: one COUNT and one SELECT … LIMIT per page.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(self.invalid_page_message.format(page_number=page_number)) from exc
        return self.page.object_list
