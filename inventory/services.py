"""Catalog and stock writes.

Stock rule: a product's `quantity` changes only through `stock_adjust` (or the helpers built on
it), which locks the rows it touches in primary-key order, changes them and writes one
StockMovement per change in the same transaction.
"""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import F

from inventory.models import ImportBatch, Product, StockMovement
from shop.exceptions import DomainError


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    detail = "Not enough stock for one or more products."


@transaction.atomic
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
    an order lock it first). Raises InsufficientStock, with `items` [{product, requested,
    available}], when any product would go below zero; then nothing is changed.
    Returns the locked products by id, with their new quantities.
    """
    ids = sorted(pk for pk, delta in changes.items() if delta)
    products = {
        p.pk: p for p in Product.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
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
        Product.objects.filter(pk=pk).update(quantity=F("quantity") + changes[pk])
        product.quantity += changes[pk]
        movements.append(
            StockMovement(
                product=product,
                change=changes[pk],
                quantity_after=product.quantity,
                reason=reason,
                actor=actor,
                order=order,
                import_batch=import_batch,
                note=note,
            )
        )
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
    current = (
        Product.objects.select_for_update().values_list("quantity", flat=True).get(pk=product.pk)
    )
    if quantity != current:
        stock_adjust(
            changes={product.pk: quantity - current},
            reason=StockMovement.Reason.MANUAL,
            actor=actor,
            note=note,
        )
    product.quantity = quantity
    return product


# --- The bulk path of a spreadsheet import (appended: imports kept here to merge cleanly) ------
from collections.abc import Iterable, Sequence  # noqa: E402

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402


def _copy_rows(cursor, table: str, columns: str, rows: Iterable[Sequence]) -> None:
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


@transaction.atomic
def stock_set_bulk(
    *,
    created: Sequence[tuple] = (),
    updated: Sequence[tuple] = (),
    current: Mapping[int, int],
    reason: str,
    actor=None,
    import_batch: ImportBatch | None = None,
    note: str = "",
) -> list[int]:
    """Write many products at once with their stock on hand: the bulk path of an import.

    `created`: (sku, name, category_id, price, cost, quantity) rows to insert.
    `updated`: (id, name, category_id, price, cost, quantity) rows to overwrite. The caller has
    locked these products with SELECT … FOR UPDATE in primary-key order in this transaction, and
    `current` holds their locked quantities, so a concurrent sale is never lost.
    Each stock change (a created product's quantity, an updated product's difference) is kept as
    one StockMovement. On PostgreSQL rows go through COPY; elsewhere through bulk_create /
    bulk_update. Returns the ids of the created products, in order.
    """
    now = timezone.now()
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
                _copy_rows(
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
                _copy_rows(
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
            _copy_rows(
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
