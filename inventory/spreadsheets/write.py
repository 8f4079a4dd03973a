"""Writing: checked rows against the catalog, then into it, all or nothing (`product_import`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, transaction

from inventory.models import Category, ImportBatch, Product, StockMovement
from inventory.services import stock_set_bulk
from inventory.spreadsheets.common import (
    Progress,
    SpreadsheetInvalid,
    error,
    no_progress,
)
from inventory.spreadsheets.read import read_rows
from inventory.spreadsheets.staging import Staging, staged_rows
from inventory.spreadsheets.validate import MAX_ERRORS, listed, parse_rows, repeated_error

PREVIEW_ROWS = 500  # rows listed in the admin's preview
WRITE_CHUNK = 25_000  # rows held in memory, staged, then written, at a time


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
    Locks: the products the file names, in primary-key order (as `products_locked`), once the
    whole file is checked and before anything is written, for the whole transaction.
    Raises SpreadsheetInvalid (nothing written) when the file cannot be read or any row is
    invalid. With `dry_run`, validates and counts without writing or locking.
    Memory: one chunk of WRITE_CHUNK rows at a time; the whole file is kept, for its checks, in
    a temporary table of the transaction (inventory.spreadsheets.staging).
    `progress(stage, rows_done, rows_total)` is called through "reading" (rows read and
    checked), "validating" (rows checked against the catalog; in a dry run, compared with it)
    and "writing" (rows compared and written).
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
    try:
        with transaction.atomic():
            return _import(
                rows,
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


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _existing_products(ids: list[int]) -> dict[int, tuple]:
    """{id: (name, category_id, price, cost, quantity)}."""
    found = {}
    for chunk in _chunks(ids, connection.features.max_query_params or len(ids) or 1):
        products = Product.objects.filter(pk__any_of=chunk)  # inventory.lookups
        found.update(
            (row[0], row[1:])
            for row in products.values_list(
                "id", "name", "category_id", "price", "cost", "quantity"
            )
        )
    return found


def _import(rows, *, file_name, dry_run, user, source, progress) -> ImportResult:
    """Stage and check the whole file, then compare and write it chunk by chunk: at most one
    chunk of rows is held in memory, whatever the file's size."""
    with staged_rows() as staging:
        total, categories_named = _stage(rows, staging)
        progress("validating", 0, total)
        _check_names(staging)
        staging.match_products(lock=not dry_run)
        result = ImportResult(dry_run=dry_run, rows=total)
        categories = _categories(categories_named, result)
        if not dry_run:
            progress("validating", total, total)
            result.batch = ImportBatch.objects.create(
                user=user,
                source=source,
                file_name=file_name[:255],
                rows=total,
                categories_created=result.categories_created,
            )
            progress("writing", 0, total)

        done = 0
        for chunk in staging.chunks(WRITE_CHUNK):
            created, updated = _compare(chunk, categories, result)
            if not dry_run:
                stock_set_bulk(
                    created=created,
                    updated=updated,
                    reason=StockMovement.Reason.IMPORT,
                    actor=user,
                    import_batch=result.batch,
                )
            done += len(chunk)
            progress("validating" if dry_run else "writing", done, total)
        if not dry_run:
            batch = result.batch
            batch.created_count, batch.updated_count = result.created, result.updated
            batch.unchanged_count = result.unchanged
            batch.save(update_fields=["created_count", "updated_count", "unchanged_count"])
    return result


def _stage(rows, staging: Staging) -> tuple[int, dict[str, str]]:
    """Check every row and stage it; raise SpreadsheetInvalid with every problem of the file,
    repeated SKUs and names included. Returns the number of rows and {lower-case category
    name: its first spelling in the file}."""
    errors: list[dict] = []
    total = 0
    categories: dict[str, str] = {}
    for chunk in _chunks(parse_rows(rows, errors), WRITE_CHUNK):
        staging.add(chunk)
        total += len(chunk)
        for row in chunk:
            if row[3]:
                categories.setdefault(row[3].lower(), row[3])
    staging.analyze()
    for column in ("sku", "name"):
        errors += [
            repeated_error(number, column, value, first)
            for number, value, first in staging.repeated(column, MAX_ERRORS)
        ]
    if errors:
        raise SpreadsheetInvalid(listed(errors))
    return total, categories


def _check_names(staging: Staging) -> None:
    """Raise SpreadsheetInvalid when a row's name belongs to another SKU in the catalog."""
    taken = staging.names_taken(MAX_ERRORS)
    if taken:
        raise SpreadsheetInvalid(
            listed(
                [
                    error(
                        number,
                        "name",
                        f"name '{name}': already belongs to SKU '{owner}'.",
                        name,
                        f"already belongs to SKU '{owner}'.",
                    )
                    for number, name, owner in taken
                ]
            )
        )


def _categories(named: dict[str, str], result: ImportResult) -> dict[str, int | None]:
    """{lower-case name: id} of the catalog's categories and the file's new ones, which are
    created unless it is a dry run (then their id is None)."""
    categories = {name.lower(): pk for pk, name in Category.objects.values_list("id", "name")}
    new = [name for key, name in named.items() if key not in categories]
    result.categories_created = len(new)
    result.new_categories = new
    if result.dry_run or not new:
        return categories
    for category in Category.objects.bulk_create([Category(name=name) for name in new]):
        categories[category.name.lower()] = category.pk
    if any(categories.get(name.lower()) is None for name in new):
        categories.update(
            (name.lower(), pk) for pk, name in Category.objects.values_list("id", "name")
        )
    return categories


def _compare(
    chunk: list[tuple], categories: dict[str, int | None], result: ImportResult
) -> tuple[list[tuple], list[tuple]]:
    """The chunk's rows to create (sku, name, category_id, price, cost, quantity) and to update
    (id, name, category_id, price, cost, quantity); counts them and fills the preview."""
    existing = _existing_products([row[7] for row in chunk if row[7] is not None])
    created: list[tuple] = []
    updated: list[tuple] = []
    preview = result.preview
    for number, sku, name, category, price, cost, quantity, product_id in chunk:
        category_id = categories.get(category.lower())
        if product_id is None:
            created.append((sku, name, category_id, price, cost, quantity))
            kind = "new"
        elif existing[product_id] == (name, category_id, price, cost, quantity):
            result.unchanged += 1
            continue
        else:
            updated.append((product_id, name, category_id, price, cost, quantity))
            kind = "update"
        if len(preview) < PREVIEW_ROWS:
            preview.append((number, kind, (sku, name, category, price, cost, quantity)))
    result.created += len(created)
    result.updated += len(updated)
    return created, updated
