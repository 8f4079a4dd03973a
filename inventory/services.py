"""Catalog and stock writes.

Stock rule: a product's `quantity` has two writers, `stock_adjust` (and product_set_quantity,
built on it) and `stock_set_bulk` (the bulk path of an import). Both lock the rows they touch
through `products_locked` (primary-key order), change them and write one StockMovement per
change in the same transaction. Catalog edits through `product_update` write a ProductChange.
"""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone

from inventory.models import Category, ImportBatch, Product, ProductChange, StockMovement
from inventory.selectors import catalog_changed
from shop.errors import DomainError


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    detail = "Not enough stock for one or more products."


def products_locked(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """The products of `queryset`, locked with SELECT … FOR UPDATE in primary-key order (so two
    writers never deadlock). Every writer of stock takes its product locks through this; it
    must run inside a transaction, held until it ends. (SQLite locks the whole database.)"""
    return queryset.select_for_update().order_by("pk")


@transaction.atomic(savepoint=False)  # on the hot path; any error fails the caller too
def stock_adjust(
    *,
    changes: Mapping[int, int],
    reason: str,
    actor=None,
    order=None,
    import_batch: ImportBatch | None = None,
    note: str = "",
) -> dict[int, Product]:
    """Apply `changes` ({product_id: delta}) to stock and record each as a movement.

    Locks: the products, with SELECT … FOR UPDATE in primary-key order (callers that also lock
    an order lock it first). `order`: any object with a `pk` (an order), kept as the
    movements' order_id. Raises InsufficientStock, with `items` [{product, requested,
    available}], when any product would go below zero; then nothing is changed.
    Returns the locked products by id, with their new quantities.
    """
    ids = sorted(pk for pk, delta in changes.items() if delta)
    products = {p.pk: p for p in products_locked(Product.objects.filter(pk__in=ids))}
    missing = set(ids) - set(products)
    if missing:
        raise Product.DoesNotExist(f"Unknown product ids: {sorted(missing)}")
    short = [
        {"product": pk, "requested": -changes[pk], "available": products[pk].quantity}
        for pk in ids
        if products[pk].quantity + changes[pk] < 0
    ]
    if short:
        raise InsufficientStock(items=short)
    movements = []
    for pk in ids:
        product = products[pk]
        product.quantity += changes[pk]  # the rows are locked: the new value is exact
        movements.append(
            StockMovement(
                product=product,
                change=changes[pk],
                quantity_after=product.quantity,
                reason=reason,
                actor=actor,
                order_id=order.pk if order is not None else None,
                import_batch=import_batch,
                note=note,
            )
        )
    Product.objects.bulk_update([products[pk] for pk in ids], ["quantity"])  # one statement
    StockMovement.objects.bulk_create(movements)
    return products


@transaction.atomic
def product_set_quantity(*, product: Product, quantity: int, actor, note: str = "") -> Product:
    """Set a product's stock on hand (a manual count), recording the difference as a movement.

    Locks the product row; the difference is computed from the locked value, so a concurrent
    sale is never lost.
    """
    if quantity < 0:
        raise ValueError("quantity cannot be negative")
    locked = products_locked(Product.objects.filter(pk=product.pk))
    current = locked.values_list("quantity", flat=True).get()
    if quantity != current:
        stock_adjust(
            changes={product.pk: quantity - current},
            reason=StockMovement.Reason.MANUAL,
            actor=actor,
            note=note,
        )
    product.quantity = quantity
    return product


# --- Catalog writes -------------------------------------------------------------------------
# None of these writes `quantity` itself: a stock change goes through stock_adjust above.

PRODUCT_FIELDS = ("sku", "name", "category", "price", "cost", "is_active")


class ProductHasSales(DomainError):
    code = "product_has_sales"
    detail = "This product has been ordered: archive it (is_active false) instead of deleting it."


class CategoryHasSales(DomainError):
    code = "category_has_sales"
    detail = "A product of this category has been ordered: the category cannot be deleted."


def _category_name_taken(*, name: str, exclude_pk: int | None) -> bool:
    """The same test as the database's unique index on LOWER(name)."""
    return (
        Category.objects.alias(lname=Lower("name"))
        .filter(lname=Lower(Value(name)))
        .exclude(pk=exclude_pk)
        .exists()
    )


def _catalog_changed() -> None:
    transaction.on_commit(catalog_changed)


def _category_save(category: Category, *, update_fields=None) -> Category:
    if _category_name_taken(name=category.name, exclude_pk=category.pk):
        raise ValidationError({"name": ["A category with this name already exists."]})
    category.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            category.save(update_fields=update_fields)
    except IntegrityError as exc:  # a concurrent writer took the name between check and save
        raise ValidationError({"name": ["A category with this name already exists."]}) from exc
    _catalog_changed()
    return category


@transaction.atomic
def category_create(*, name: str) -> Category:
    """Create a category. Raises ValidationError ({"name": …}) for a name taken in any case."""
    return _category_save(Category(name=name))


@transaction.atomic
def category_update(*, category: Category, name: str) -> Category:
    """Rename a category. Raises ValidationError for a name taken in any case."""
    category.name = name
    return _category_save(category, update_fields=["name"])


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete a category and its products (and their stock movements).

    Raises CategoryHasSales (409) when any of its products has been sold: the PROTECT foreign
    key of the order lines (or any other sale record) refuses the delete, and nothing changes.
    """
    try:
        with transaction.atomic():
            category.delete()
    except (ProtectedError, IntegrityError) as exc:
        raise CategoryHasSales() from exc
    _catalog_changed()


def _product_save(product: Product, *, update_fields=None) -> Product:
    # Validates unique sku/name and the price/cost rules before the database does. `quantity` is
    # left out: only the stock ledger writes it, and the instance's value may be stale.
    product.full_clean(exclude=["quantity"])
    try:
        with transaction.atomic():
            product.save(update_fields=update_fields)
    except IntegrityError as exc:  # a concurrent writer took the sku or name meanwhile
        raise ValidationError("A product with this SKU or name already exists.") from exc
    _catalog_changed()
    return product


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal,
    cost: Decimal = Decimal("0"),
    quantity: int = 0,
    is_active: bool = True,
    actor=None,
) -> Product:
    """Create a product. Its initial stock is recorded as a manual movement by `actor`.

    Raises ValidationError for a taken sku or name, price ≤ 0, cost < 0 or quantity < 0.
    """
    if quantity < 0:
        raise ValidationError({"quantity": ["Quantity cannot be negative."]})
    product = _product_save(
        Product(
            sku=sku,
            name=name,
            category=category,
            price=price,
            cost=cost,
            quantity=0,
            is_active=is_active,
        )
    )
    if quantity:
        stock_adjust(
            changes={product.pk: quantity},
            reason=StockMovement.Reason.MANUAL,
            actor=actor,
            note="initial stock",
        )
        product.quantity = quantity
    return product


@transaction.atomic
def product_update(*, product: Product, data: Mapping[str, Any], actor) -> Product:
    """Change a product's fields; a new `quantity` goes through product_set_quantity.

    `data` holds any of sku, name, category, price, cost, is_active, quantity. Locks the
    product row, and records the fields whose value changed (from the locked row's values) as
    one ProductChange by `actor`, in the same transaction. Raises ValidationError like
    product_create, and then nothing is written. Only the given columns are written.
    """
    unknown = set(data) - {*PRODUCT_FIELDS, "quantity"}
    if unknown:
        raise ValueError(f"Unknown product fields: {sorted(unknown)}")
    fields = [f for f in PRODUCT_FIELDS if f in data]
    if fields:
        columns = [Product._meta.get_field(f).attname for f in fields]  # category -> category_id
        before = Product.objects.select_for_update().values(*columns).get(pk=product.pk)
        for field in fields:
            setattr(product, field, data[field])
        _product_save(product, update_fields=[*fields, "updated_at"])
        changes = {
            field: [str(before[column]), str(getattr(product, column))]
            for field, column in zip(fields, columns, strict=True)
            if before[column] != getattr(product, column)
        }
        if changes:
            ProductChange.objects.create(product=product, actor=actor, changes=changes)
    if "quantity" in data:
        if data["quantity"] < 0:
            raise ValidationError({"quantity": ["Quantity cannot be negative."]})
        product_set_quantity(product=product, quantity=data["quantity"], actor=actor)
        _catalog_changed()
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete a product and its stock movements.

    Raises ProductHasSales (409) when it has been sold (archive it instead): the PROTECT foreign
    key of the order lines refuses the delete, and nothing changes.
    """
    try:
        with transaction.atomic():
            product.delete()
    except (ProtectedError, IntegrityError) as exc:
        raise ProductHasSales() from exc
    _catalog_changed()


# --- The bulk path of a spreadsheet import -------------------------------------------------


def copy_rows(cursor, table: str, columns: str, rows: Iterable[Sequence]) -> None:
    """PostgreSQL binary COPY … FROM STDIN through psycopg 3 (many times faster than INSERT).

    `columns`: "name type, name type, …" with PostgreSQL type names.
    """
    names, types = zip(*(column.split() for column in columns.split(", ")), strict=True)
    sql = f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
    with cursor.cursor.copy(sql) as copy:
        copy.set_types(types)
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def quantities_locked(ids: Sequence[int]) -> dict[int, int]:
    """{id: quantity} of these products, locked through `products_locked` (in one statement
    where the database takes that many parameters, so the locks come in primary-key order).
    The ids go as one array (`__any_of`, registered by inventory.lookups.AnyOf)."""
    ids = sorted(ids)
    step = connection.features.max_query_params or len(ids) or 1
    found: dict[int, int] = {}
    for start in range(0, len(ids), step):
        chunk = Product.objects.filter(pk__any_of=ids[start : start + step])
        found.update(products_locked(chunk).values_list("pk", "quantity"))
    return found


@transaction.atomic
def stock_set_bulk(
    *,
    created: Sequence[tuple] = (),
    updated: Sequence[tuple] = (),
    reason: str,
    actor=None,
    import_batch: ImportBatch | None = None,
    note: str = "",
) -> list[int]:
    """Write many products at once with their stock on hand: the bulk path of an import.

    `created`: (sku, name, category_id, price, cost, quantity) rows to insert.
    `updated`: (id, name, category_id, price, cost, quantity) rows to overwrite.
    Locks: the updated products, through `products_locked` (primary-key order), for the
    caller's transaction; their quantities are read under the lock, so a concurrent sale is
    never lost. Each stock change (a created product's quantity, an updated product's
    difference) is kept as one StockMovement. On PostgreSQL rows go through COPY; elsewhere
    through bulk_create / bulk_update. Returns the ids of the created products, in order.
    """
    current = quantities_locked([row[0] for row in updated])
    missing = {row[0] for row in updated} - set(current)
    if missing:
        raise Product.DoesNotExist(f"Unknown product ids: {sorted(missing)}")
    now = timezone.now()
    _catalog_changed()
    actor_id = actor.pk if actor is not None else None
    batch_id = import_batch.pk if import_batch is not None else None
    movements: list[tuple[int, int, int]] = []  # (product_id, change, quantity_after)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            ids: list[int] = []
            if created:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('inventory_product', 'id')) "
                    "FROM generate_series(1, %s)",
                    [len(created)],
                )
                ids = [row[0] for row in cursor.fetchall()]
                copy_rows(
                    cursor,
                    "inventory_product",
                    "id int8, sku text, name text, category_id int8, price numeric, cost numeric, "
                    "quantity int4, is_active bool, created_at timestamptz, updated_at timestamptz",
                    ((pk, *row, True, now, now) for pk, row in zip(ids, created, strict=True)),
                )
                movements += [
                    (pk, row[5], row[5]) for pk, row in zip(ids, created, strict=True) if row[5]
                ]
            if updated:
                cursor.execute(
                    "CREATE TEMPORARY TABLE _stock_set_bulk (id bigint, name varchar(200), "
                    "category_id bigint, price numeric(10, 2), cost numeric(10, 2), "
                    "quantity integer) ON COMMIT DROP"
                )
                copy_rows(
                    cursor,
                    "_stock_set_bulk",
                    "id int8, name text, category_id int8, price numeric, cost numeric, "
                    "quantity int4",
                    updated,
                )
                cursor.execute(
                    "UPDATE inventory_product AS p SET name = u.name, "
                    "category_id = u.category_id, price = u.price, cost = u.cost, "
                    "quantity = u.quantity, updated_at = %s "
                    "FROM _stock_set_bulk AS u WHERE p.id = u.id",
                    [now],
                )
                cursor.execute("DROP TABLE _stock_set_bulk")
            movements += [
                (row[0], row[5] - current[row[0]], row[5])
                for row in updated
                if row[5] != current[row[0]]
            ]
            copy_rows(
                cursor,
                "inventory_stockmovement",
                "product_id int8, change int4, quantity_after int4, reason text, actor_id int8, "
                "import_batch_id int8, note text, created_at timestamptz",
                (
                    (pk, change, after, reason, actor_id, batch_id, note, now)
                    for pk, change, after in movements
                ),
            )
        return ids

    fields = ("name", "category_id", "price", "cost", "quantity")
    products = Product.objects.bulk_create(
        [Product(sku=sku, **dict(zip(fields, rest, strict=True))) for sku, *rest in created],
        batch_size=500,
    )
    ids = [p.pk for p in products]
    if None in ids:  # a backend that cannot return ids from a bulk insert
        by_sku = dict(
            Product.objects.filter(sku__in=[row[0] for row in created]).values_list("sku", "id")
        )
        ids = [by_sku[row[0]] for row in created]
    movements += [(pk, row[5], row[5]) for pk, row in zip(ids, created, strict=True) if row[5]]
    Product.objects.bulk_update(
        [
            Product(pk=pk, updated_at=now, **dict(zip(fields, rest, strict=True)))
            for pk, *rest in updated
        ],
        [*fields, "updated_at"],
        batch_size=500,
    )
    movements += [
        (row[0], row[5] - current[row[0]], row[5]) for row in updated if row[5] != current[row[0]]
    ]
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product_id=pk,
                change=change,
                quantity_after=after,
                reason=reason,
                actor_id=actor_id,
                import_batch_id=batch_id,
                note=note,
            )
            for pk, change, after in movements
        ],
        batch_size=500,
    )
    return ids
