"""Writing: checked rows against the catalog, then into it, all or nothing (`product_import`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, transaction

from inventory.models import Category, ImportBatch, Product, StockMovement
from inventory.services import products_locked, stock_set_bulk
from inventory.spreadsheets.common import (
    Progress,
    SpreadsheetInvalid,
    error,
    no_progress,
)
from inventory.spreadsheets.read import read_rows
from inventory.spreadsheets.validate import parse_rows

PREVIEW_ROWS = 500  # rows listed in the admin's preview
WRITE_CHUNK = 25_000  # rows written between two progress reports (each chunk costs a join)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    categories_created: int = 0
    rows: int = 0
    dry_run: bool = True
    batch: ImportBatch | None = None
    new_categories: list[str] = field(default_factory=list)
    # A sample of (row number, "new" | "update", values) for the admin's preview.
    preview: list[tuple[int, str, tuple]] = field(default_factory=list)

    def summary(self) -> str:
        """In plain English: 'Would create 100, update 0 and leave 3 unchanged (103 rows);
        1 new category.' (dry run) or 'Created 100, updated 0, left 3 unchanged …'."""
        if self.dry_run:
            counts = (
                f"Would create {self.created:,}, update {self.updated:,} and leave "
                f"{self.unchanged:,} unchanged"
            )
        else:
            counts = (
                f"Created {self.created:,}, updated {self.updated:,}, left "
                f"{self.unchanged:,} unchanged"
            )
        rows = _plural(self.rows, "row", "rows")
        categories = _plural(self.categories_created, "new category", "new categories")
        return f"{counts} ({rows}); {categories}."

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "categories_created": self.categories_created,
            "dry_run": self.dry_run,
        }


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def product_import(
    *,
    file: IO[bytes] | None = None,
    path: str | Path | None = None,
    rows: Iterable[Sequence[Any]] | None = None,
    file_name: str = "",
    dry_run: bool = False,
    user=None,
    source: str = ImportBatch.Source.COMMAND,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import products from a CSV/XLSX `file` (a binary file object), a `path`, or `rows`
    (header first). All or nothing.

    A known SKU updates its product, a new one creates it; an unknown category name (matched
    case-insensitively) creates the category; `quantity` sets stock on hand, each change kept
    as a stock movement (reason `import`) of one ImportBatch.
    Locks: the products it updates, through `products_locked` (primary-key order), for the whole
    transaction. Raises SpreadsheetInvalid (nothing written) when the file cannot be read or any
    row is invalid. With `dry_run`, validates and counts without writing or locking.
    `progress(stage, rows_done, rows_total)` is called through "reading" (rows read and
    checked), "validating" (rows checked against the catalog) and "writing" (rows written).
    """
    if path is not None:
        with Path(path).open("rb") as opened:
            return product_import(
                file=opened,
                file_name=file_name or Path(path).name,
                dry_run=dry_run,
                user=user,
                source=source,
                progress=progress,
            )
    if rows is None:
        if file is None:
            raise ValueError("product_import needs a file, a path or rows")
        rows = read_rows(file, file_name, progress=progress)
    parsed = parse_rows(rows)
    try:
        with transaction.atomic():
            return _import(
                parsed,
                file_name=file_name,
                dry_run=dry_run,
                user=user,
                source=source,
                progress=progress,
            )
    except IntegrityError as exc:
        # Another import or edit created the same SKU, name or category meanwhile.
        raise SpreadsheetInvalid(
            [error(None, None, "The catalog changed during the import; try again.")]
        ) from exc


def _chunks(items: list, size: int | None):
    size = size or len(items) or 1
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_products(skus: list[str], *, lock: bool) -> dict[str, tuple]:
    """{sku: (id, name, category_id, price, cost, quantity)}; locked when `lock`."""
    found = {}
    for chunk in _chunks(skus, connection.features.max_query_params):
        products = Product.objects.filter(sku__any_of=chunk)  # inventory.lookups
        if lock:
            products = products_locked(products)
        found.update(
            (row[0], row[1:])
            for row in products.values_list(
                "sku", "id", "name", "category_id", "price", "cost", "quantity"
            )
        )
    return found


def _name_owners(names: list[str]) -> dict[str, str]:
    """{name: sku} of the catalog's products with these names."""
    owners = {}
    for chunk in _chunks(names, connection.features.max_query_params):
        owners.update(Product.objects.filter(name__any_of=chunk).values_list("name", "sku"))
    return owners


def _import(parsed: list[tuple], *, file_name, dry_run, user, source, progress) -> ImportResult:
    total = len(parsed)
    progress("validating", 0, total)
    existing = _existing_products([row[1] for row in parsed], lock=not dry_run)
    owners = _name_owners([row[2] for row in parsed])
    errors = []
    for number, sku, name, *_ in parsed:
        owner = owners.get(name)
        if owner is not None and owner != sku:
            errors.append(
                error(
                    number,
                    "name",
                    f"name '{name}': already belongs to SKU '{owner}'.",
                    name,
                    f"already belongs to SKU '{owner}'.",
                )
            )
    if errors:
        raise SpreadsheetInvalid(errors)

    categories = {name.lower(): pk for pk, name in Category.objects.values_list("id", "name")}
    new_categories: dict[str, str] = {}
    for row in parsed:
        key = row[3].lower()
        if key not in categories and key not in new_categories:
            new_categories[key] = row[3]

    result = ImportResult(dry_run=dry_run, rows=total)
    result.categories_created = len(new_categories)
    result.new_categories = list(new_categories.values())
    if not dry_run and new_categories:
        for category in Category.objects.bulk_create(
            [Category(name=name) for name in new_categories.values()]
        ):
            categories[category.name.lower()] = category.pk
        if any(categories.get(key) is None for key in new_categories):
            categories.update(
                (name.lower(), pk) for pk, name in Category.objects.values_list("id", "name")
            )

    created: list[tuple] = []  # (sku, name, category_id, price, cost, quantity)
    updated: list[tuple] = []  # (id, name, category_id, price, cost, quantity)
    preview = result.preview
    for done, (number, sku, name, category, price, cost, quantity) in enumerate(parsed, 1):
        category_id = categories.get(category.lower())
        old = existing.get(sku)
        if old is None:
            created.append((sku, name, category_id, price, cost, quantity))
            kind = "new"
        elif old[1:] == (name, category_id, price, cost, quantity):
            result.unchanged += 1
            kind = "skip"
        else:
            updated.append((old[0], name, category_id, price, cost, quantity))
            kind = "update"
        if len(preview) < PREVIEW_ROWS and kind != "skip":
            preview.append((number, kind, (sku, name, category, price, cost, quantity)))
        if done % WRITE_CHUNK == 0:
            progress("validating", done, total)
    result.created, result.updated = len(created), len(updated)
    progress("validating", total, total)
    if dry_run:
        return result

    result.batch = ImportBatch.objects.create(
        user=user,
        source=source,
        file_name=file_name[:255],
        rows=result.rows,
        created_count=result.created,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        categories_created=result.categories_created,
    )
    done = result.unchanged
    progress("writing", done, total)
    for rows_created, rows_updated in (
        *((chunk, ()) for chunk in _chunks(created, WRITE_CHUNK)),
        *(((), chunk) for chunk in _chunks(updated, WRITE_CHUNK)),
    ):
        stock_set_bulk(
            created=rows_created,
            updated=rows_updated,
            reason=StockMovement.Reason.IMPORT,
            actor=user,
            import_batch=result.batch,
        )
        done += len(rows_created) + len(rows_updated)
        progress("writing", done, total)
    return result
