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
