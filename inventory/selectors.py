"""Catalog reads: what each caller may see, and the list rows in the shape API.md documents."""

import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from inventory.models import Category, Product

# The list/detail columns, in API.md's order. `cost` is added for staff.
PRODUCT_COLUMNS = (
    "id",
    "sku",
    "name",
    "category",
    "category_name",
    "price",
    "quantity",
    "is_active",
)


def user_is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def product_queryset(*, user) -> QuerySet[Product]:
    """Products `user` may see: archived ones only for staff."""
    qs = Product.objects.all()
    if not user_is_staff(user):
        qs = qs.filter(is_active=True)
    return qs


def category_queryset(*, user) -> QuerySet[Category]:
    """Categories with `product_count`: the number of their products `user` may see."""
    visible = None if user_is_staff(user) else Q(products__is_active=True)
    return Category.objects.annotate(product_count=Count("products", filter=visible))


def product_rows(products: QuerySet[Product], *, with_cost: bool) -> list[dict]:
    """The API rows of `products` (already filtered, ordered and sliced) in one query.

    Reads exactly the columns the response needs (`.values()`), without model instances or
    serializer fields: this is the catalog's hot path. Money is a string with two places.
    """
    columns = ["id", "sku", "name", "category_id", "category__name", "price", "quantity"]
    columns += ["is_active", "cost"] if with_cost else ["is_active"]
    return [_row(values, with_cost) for values in products.values_list(*columns)]


def _row(values: Iterable, with_cost: bool) -> dict:
    if with_cost:
        pk, sku, name, category, category_name, price, quantity, is_active, cost = values
    else:
        pk, sku, name, category, category_name, price, quantity, is_active = values
    row = {
        "id": pk,
        "sku": sku,
        "name": name,
        "category": category,
        "category_name": category_name,
        "price": f"{price:.2f}",
        "quantity": quantity,
        "is_active": is_active,
    }
    if with_cost:
        row["cost"] = f"{cost:.2f}"
    return row


COUNT_GENERATION_KEY = "inventory:catalog-generation"


def catalog_changed() -> None:
    """Forget cached product counts (called by the catalog services after a commit).

    Cached counts also expire on their own after CATALOG_COUNT_CACHE_SECONDS; with a cache
    shared between processes (CACHE_URL=redis://…) every worker forgets them at once.
    """
    try:
        cache.incr(COUNT_GENERATION_KEY)
    except ValueError:
        cache.set(COUNT_GENERATION_KEY, 1, timeout=None)


def product_count(products: QuerySet[Product], *, key: str | None = None) -> int:
    """COUNT(*) of a filtered product queryset, cached for CATALOG_COUNT_CACHE_SECONDS.

    Counting a big catalog costs a scan of every matching row (tens of ms for 100,000 products)
    while the page itself is an index range of 50: the count is the list's real cost, so it is
    shared between requests with the same filters for a few seconds. The page's rows are
    always read fresh; only `count` (and so the `next` link on the last page) may lag a stock
    change by that long. 0 turns the cache off.

    `key` names the filters that made `products` (the caller's cheap summary of them); without
    it the query's SQL is the key.
    """
    timeout = settings.CATALOG_COUNT_CACHE_SECONDS
    if not timeout:
        return products.count()
    if key is None:
        key = repr(products.order_by().query.sql_with_params())
    generation = cache.get(COUNT_GENERATION_KEY, 0)
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    key = f"inventory:product-count:{generation}:{digest}"
    count = cache.get(key)
    if count is None:
        count = products.count()
        cache.set(key, count, timeout=timeout)
    return count
