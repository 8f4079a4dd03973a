"""Catalog reads: what each caller may see, and the list rows in the shape API.md documents."""

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL

from inventory.models import MAX_ID, Category, Product
from shop.money import money

T = TypeVar("T")


# --- Stock levels: "low stock" is defined here only -----------------------------------------


def stock_level(quantity: int) -> str:
    """ "out" (none on hand), "low" (fewer than settings.LOW_STOCK_THRESHOLD) or "ok"."""
    if quantity <= 0:
        return "out"
    return "low" if quantity < settings.LOW_STOCK_THRESHOLD else "ok"


def stock_level_filter(level: str) -> Q:
    """The products at a stock level of stock_level's ("in": any on hand)."""
    return {
        "out": Q(quantity__lte=0),
        "low": Q(quantity__gt=0, quantity__lt=settings.LOW_STOCK_THRESHOLD),
        "ok": Q(quantity__gte=settings.LOW_STOCK_THRESHOLD),
        "in": Q(quantity__gt=0),
    }[level]


def low_stock_products(*, limit: int | None = None) -> QuerySet[Product]:
    """Active products to restock: out of stock or low (stock_level), fewest first."""
    qs = (
        Product.objects.filter(stock_level_filter("out") | stock_level_filter("low"))
        .filter(is_active=True)
        .select_related("category")
        .order_by("quantity", "id")
    )
    return qs[:limit] if limit is not None else qs


def user_is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def product_queryset(*, user) -> QuerySet[Product]:
    """Products `user` may see: archived ones only for staff."""
    qs = Product.objects.all()
    if not user_is_staff(user):
        qs = qs.filter(is_active=True)
    return qs


def category_with_counts(
    categories: Iterable[Category], *, user, cached: bool = True
) -> list[Category]:
    """Set `product_count` on each category: how many of its products `user` may see.

    One grouped COUNT for the whole page of categories, cached like `product_count` (on a big
    catalog it reads every product of those categories) unless `cached` is false.
    """
    categories = list(categories)
    ids = sorted(c.pk for c in categories)
    staff = user_is_staff(user)

    def count():
        products = Product.objects.filter(category_id__in=ids)
        if not staff:
            products = products.filter(is_active=True)
        rows = products.order_by().values("category_id").annotate(n=Count("*"))
        return {row["category_id"]: row["n"] for row in rows}

    if not ids:
        counts = {}
    elif cached:
        counts = _cached_count(f"categories:{staff}:{ids}", count)
    else:
        counts = count()
    for category in categories:
        category.product_count = counts.get(category.pk, 0)
    return categories


# --- The catalog's hot paths: queries compiled once per worker --------------------------------

_COMPILED: dict = {}
COMPILED_MEMO_SIZE = 512


def compiled_once(key, build: Callable[[], T]) -> T:
    """`build()`'s result for `key`, built once per worker process and kept: the catalog's
    filtered querysets (SQL conditions, never rows) and compiled queries (ProductPages,
    ProductRowById), which cost more CPU to build than the database spends running them.
    `key` must hold everything the result depends on (who asks, the filters, the ordering).
    Bounded: past COMPILED_MEMO_SIZE keys the memo starts again, so odd parameters cannot
    grow it without limit. Whatever `build` raises (a 400 for bad filters) is not kept."""
    found = _COMPILED.get(key)
    if found is None:
        found = build()
        if len(_COMPILED) >= COMPILED_MEMO_SIZE:
            _COMPILED.clear()
        _COMPILED[key] = found
    return found


def product_row(*, pk: int, user) -> dict | None:
    """The API row of product `pk` as `user` may see it (staff: with cost and archived
    products), or None; through a ProductRowById compiled once per worker."""
    with_cost = user_is_staff(user)
    row_by_id = compiled_once(
        ("detail", with_cost),
        lambda: ProductRowById(product_queryset(user=user), with_cost=with_cost),
    )
    return row_by_id(pk)


class ProductPages:
    """The API rows of a filtered and ordered product list, page by page: `pages[start:stop]`.

    Reads exactly the columns the response needs, without model instances or serializer
    fields. Money is a string with two places.

    The catalog list is the hot path, and there Django compiling the `.values_list()` query
    (columns, join, ORDER BY, then the SQL) costs more CPU than the database running it. So the
    SELECT is compiled once, without LIMIT, and each page runs it on a cursor with LIMIT and
    OFFSET appended: same columns, same order, rows read fresh on every slice. Callers keep an
    instance per worker for the same filters, ordering and `with_cost` (never the rows).

    Slicing is what Django's Paginator does with its object_list; `products` is kept for the
    paginator's count (`product_count`).
    """

    def __init__(self, products: QuerySet[Product], *, with_cost: bool):
        self.products = products
        self.with_cost = with_cost
        self.using = products.db
        query = products.values_list(*_columns(with_cost)).query
        # elide_empty=False: filters that can match nothing compile to `WHERE 0 = 1` instead of
        # raising EmptyResultSet, which the ORM would otherwise catch when running the query.
        sql, params = query.get_compiler(using=self.using, elide_empty=False).as_sql()
        self.sql = f"{sql} LIMIT %s OFFSET %s"
        self.params = tuple(params)

    def __getitem__(self, page: slice) -> list[dict]:
        start, stop = page.start or 0, page.stop
        if stop <= start:
            return []  # like an empty slice of a queryset: no query
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, (*self.params, stop - start, start))
            return [_row(values, self.with_cost) for values in cursor.fetchall()]


class ProductRowById:
    """The API row of one product by id, `product_row(pk)`: the detail's hot path, compiled
    once like `ProductPages` (callers keep one per worker for `products` and `with_cost`).

    The id is a parameter of the compiled SELECT: `_ID` marks its place among the parameters
    of `products`' own filters (archived products hidden from customers) until a call fills it.
    """

    _ID = object()

    def __init__(self, products: QuerySet[Product], *, with_cost: bool):
        self.with_cost = with_cost
        self.using = products.db
        one = products.filter(pk=RawSQL("%s", (self._ID,))).values_list(*_columns(with_cost))
        self.sql, params = one.query.get_compiler(using=self.using).as_sql()
        self.params = tuple(params)

    def __call__(self, pk: int) -> dict | None:
        """The product's row, or None when there is no such product (for these callers)."""
        if not 0 < pk <= MAX_ID:
            return None
        params = tuple(pk if param is self._ID else param for param in self.params)
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, params)
            values = cursor.fetchone()
        return None if values is None else _row(values, self.with_cost)


def _columns(with_cost: bool) -> list[str]:
    columns = ["id", "sku", "name", "category_id", "category__name", "price", "quantity"]
    return columns + (["is_active", "cost"] if with_cost else ["is_active"])


def _row(values: Iterable, with_cost: bool) -> dict:
    """A row of _columns() as the API shows it, from the ORM or straight from a cursor."""
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
        "price": money(price),
        "quantity": quantity,
        "is_active": bool(is_active),  # as Django's SQLite converter does, were it 0 or 1
    }
    if with_cost:
        row["cost"] = money(cost)
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
    if key is None and settings.CATALOG_COUNT_CACHE_SECONDS:
        key = repr(products.order_by().query.sql_with_params())
    return _cached_count(f"products:{key}", products.count)


def _cached_count(key: str, count: Callable[[], T]) -> T:
    """count(), shared for CATALOG_COUNT_CACHE_SECONDS under `key` until the catalog changes."""
    timeout = settings.CATALOG_COUNT_CACHE_SECONDS
    if not timeout:
        return count()
    generation = cache.get(COUNT_GENERATION_KEY, 0)
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    key = f"inventory:count:{generation}:{digest}"
    value = cache.get(key)
    if value is None:
        value = count()
        cache.set(key, value, timeout=timeout)
    return value
