"""Spreadsheet import and export of products: one pipeline for the admin, the API and manage.py.

`product_import` reads a CSV or XLSX file (or rows), validates every row, and either raises
`SpreadsheetInvalid` with every problem as `{"row", "field", "message"}` (the row number as the
user sees it, header = row 1) and nothing written, or writes everything in one transaction.

Column contract (API.md): sku, name, category, price, cost, quantity. Every cell is required;
cells are trimmed; blank rows are skipped; a UTF-8 byte-order mark is ignored; an XLSX file's
first sheet is read (other sheets are ignored) by inventory.xlsx, a streaming reader.

Formula escaping: an exported text cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage
return or an apostrophe gets one leading apostrophe. On import, a text cell (sku, name, category)
that starts with an apostrophe followed by one of those characters loses that apostrophe, so an
export re-imports unchanged. Numbers are never escaped: prices, costs and quantities cannot be
negative, and a negative number in an imported file is an error.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.models import Category, ImportBatch, Product, StockMovement
from inventory.services import stock_set_bulk
from inventory.xlsx import XlsxError, first_sheet_rows

COLUMNS = ("sku", "name", "category", "price", "cost", "quantity")
TEXT_COLUMNS = ("sku", "name", "category")
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_MAX_LENGTH = {
    "sku": Product._meta.get_field("sku").max_length,
    "name": Product._meta.get_field("name").max_length,
    "category": Category._meta.get_field("name").max_length,
}
_MAX_MONEY = Decimal("99999999.99")  # DecimalField(max_digits=10, decimal_places=2)
_MAX_QUANTITY = 2**31 - 1
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_INTEGER = re.compile(r"-?\d+\Z")
_CENT = Decimal("0.01")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = tuple("'" + c for c in (*_DANGEROUS, "'"))
_ZIP_MAGIC = b"PK\x03\x04"
_PREVIEW_ROWS = 500
MAX_ERRORS = 5000  # a garbage file must not make a response of millions of errors


class SpreadsheetInvalid(Exception):
    """The file cannot be imported; `errors` lists every problem, nothing was written."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the spreadsheet")


class _Unreadable(Exception):
    pass


def _error(row: int | None, field_name: str | None, message: str) -> dict[str, Any]:
    return {"row": row, "field": field_name, "message": message}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    categories_created: int = 0
    rows: int = 0
    dry_run: bool = True
    batch: ImportBatch | None = None
    # A sample of (row number, "new" | "update" | "skip", values) for the admin's preview.
    preview: list[tuple[int, str, tuple]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "categories_created": self.categories_created,
            "dry_run": self.dry_run,
        }


# --- formula escaping ---------------------------------------------------------------------------


def escape_formula(value: str) -> str:
    """Make a text cell safe for a spreadsheet: a leading apostrophe before a formula prefix."""
    if value and (value[0] in _DANGEROUS or value[0] == "'"):
        return "'" + value
    return value


def unescape_formula(value: str) -> str:
    """Undo `escape_formula` (applied to trimmed text cells on import)."""
    if value.startswith(_ESCAPED):
        return value[1:]
    return value


# --- reading ------------------------------------------------------------------------------------


def file_size(file: IO[bytes]) -> int:
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        size = file.seek(0, io.SEEK_END)
        file.seek(position)
    return size


def detect_format(file: IO[bytes], file_name: str) -> str:
    """'csv' or 'xlsx' from the name and the first bytes; raise SpreadsheetInvalid otherwise."""
    head = file.read(4)
    file.seek(0)
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if head == _ZIP_MAGIC or extension == "xlsx":
        return "xlsx"
    if extension in ("csv", "txt", ""):
        return "csv"
    raise SpreadsheetInvalid(
        [
            _error(
                None, "file", f"Unsupported file type '.{extension}': upload a .csv or .xlsx file."
            )
        ]
    )


def _csv_rows(file: IO[bytes]) -> Iterator[Sequence[Any]]:
    """CSV rows; the delimiter is the header line's most frequent of , ; and tab (Excel saves
    "CSV" with semicolons in many locales)."""
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        header = text.readline()
        delimiter = max(",;\t", key=header.count)
        yield from csv.reader(itertools.chain([header], text), delimiter=delimiter)
    except UnicodeDecodeError as exc:
        raise _Unreadable("The file is not UTF-8 text: save it as 'CSV UTF-8'.") from exc
    except csv.Error as exc:
        raise _Unreadable(f"The file is not a valid CSV file ({exc}).") from exc
    finally:
        with contextlib.suppress(ValueError):  # already closed by its owner
            text.detach()


def _xlsx_rows(file: IO[bytes]) -> Iterator[Sequence[Any]]:
    try:
        # Shared strings are held in memory: at most 10 times the upload limit, uncompressed.
        yield from first_sheet_rows(file, max_strings_size=10 * settings.IMPORT_MAX_FILE_SIZE)
    except XlsxError as exc:
        raise _Unreadable("The file is not a valid XLSX workbook.") from exc


def read_rows(file: IO[bytes], file_name: str = "") -> Iterator[Sequence[Any]]:
    """The file's rows (the header first), streamed; cells are raw values."""
    if file_size(file) > settings.IMPORT_MAX_FILE_SIZE:
        limit = settings.IMPORT_MAX_FILE_SIZE / (1024 * 1024)
        raise SpreadsheetInvalid(
            [_error(None, "file", f"The file is larger than the limit of {limit:g} MB.")]
        )
    if detect_format(file, file_name) == "xlsx":
        return _xlsx_rows(file)
    return _csv_rows(file)


# --- validating ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if type(value) is float and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _money(value: Any, column: str) -> Decimal | str:
    """A Decimal, or an error message."""
    if type(value) is str:
        value = value.strip()
        if not _NUMBER.match(value):
            if not value:
                return "This cell is required."
            if "," in value:
                return f"Enter a number with a decimal point, not '{value}'."
            return f"Enter a number, not '{value}'."
        amount = Decimal(value)
    elif type(value) in (int, float):
        amount = Decimal(repr(value))
        if not amount.is_finite():
            return "Enter a number."
    elif isinstance(value, Decimal):
        amount = value
    elif value is None:
        return "This cell is required."
    else:
        return f"Enter a number, not '{value}'."
    if amount < 0:
        return "Cannot be negative."
    if column == "price" and amount == 0:
        return "Price must be greater than 0."
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(_CENT):
        return "At most 2 decimal places."
    if amount > _MAX_MONEY:
        return f"At most {_MAX_MONEY}."
    return amount.quantize(_CENT)


def _quantity(value: Any) -> int | str:
    if type(value) is str:
        value = value.strip()
        if not _INTEGER.match(value):
            if not value:
                return "This cell is required."
            return (
                "Enter a whole number."
                if _NUMBER.match(value)
                else f"Enter a whole number, not '{value}'."
            )
        number = int(value)
    elif type(value) is int:
        number = value
    elif type(value) is float:
        if not value.is_integer():
            return "Enter a whole number."
        number = int(value)
    elif value is None:
        return "This cell is required."
    else:
        return f"Enter a whole number, not '{value}'."
    if number < 0:
        return "Cannot be negative."
    if number > _MAX_QUANTITY:
        return f"At most {_MAX_QUANTITY}."
    return number


def _header(cells: Sequence[Any]) -> tuple[list[int], list[dict]]:
    """Positions of COLUMNS in the header row, and header errors."""
    names = [_text(c).lower() for c in cells]
    while names and not names[-1]:
        names.pop()
    errors = []
    positions = {}
    for index, name in enumerate(names):
        if not name:
            errors.append(_error(1, None, f"Column {index + 1} has no name in the header row."))
        elif name not in COLUMNS:
            expected = ", ".join(COLUMNS)
            errors.append(_error(1, name, f"Unknown column '{name}'; the columns are {expected}."))
        elif name in positions:
            errors.append(_error(1, name, f"Column '{name}' appears twice in the header row."))
        else:
            positions[name] = index
    for name in COLUMNS:
        if name not in positions:
            errors.append(_error(1, name, f"Column '{name}' is missing from the header row."))
    return [positions.get(name, -1) for name in COLUMNS], errors


def parse_rows(rows: Iterable[Sequence[Any]]) -> list[tuple]:
    """Validate rows (header first) without the database.

    Returns (row number, sku, name, category, price, cost, quantity) tuples; raises
    SpreadsheetInvalid with every error found (the header's alone when it is wrong).
    """
    iterator = iter(rows)
    try:
        header = next(iterator, None)
        if header is None or not any(_text(c) for c in header):
            expected = ", ".join(COLUMNS)
            raise SpreadsheetInvalid(
                [
                    _error(
                        1,
                        None,
                        f"The file is empty: the first row must be the header ({expected}).",
                    )
                ]
            )
        positions, errors = _header(header)
        if errors:
            raise SpreadsheetInvalid(errors)
        width = len(COLUMNS)  # the header has exactly these columns, in any order
        p_sku, p_name, p_category, p_price, p_cost, p_quantity = positions
        parsed: list[tuple] = []
        seen_sku: dict[str, int] = {}
        seen_name: dict[str, int] = {}
        number = 1
        for cells in iterator:
            number += 1
            if len(cells) != width:
                if any(_text(c) for c in cells[width:]):
                    errors.append(_error(number, None, "This row has more cells than the header."))
                cells = (list(cells) + [None] * width)[:width]
            sku = unescape_formula(_text(cells[p_sku]))
            name = unescape_formula(_text(cells[p_name]))
            category = unescape_formula(_text(cells[p_category]))
            price, cost, quantity = cells[p_price], cells[p_cost], cells[p_quantity]
            if not (sku or name or category) and not (
                _text(price) or _text(cost) or _text(quantity)
            ):
                continue  # a blank row
            row_errors = len(errors)
            for column, value in (("sku", sku), ("name", name), ("category", category)):
                if not value:
                    errors.append(_error(number, column, "This cell is required."))
                elif len(value) > _MAX_LENGTH[column]:
                    errors.append(
                        _error(number, column, f"At most {_MAX_LENGTH[column]} characters.")
                    )
            price = _money(price, "price")
            if type(price) is str:
                errors.append(_error(number, "price", price))
            cost = _money(cost, "cost")
            if type(cost) is str:
                errors.append(_error(number, "cost", cost))
            quantity = _quantity(quantity)
            if type(quantity) is str:
                errors.append(_error(number, "quantity", quantity))
            if sku:
                first = seen_sku.setdefault(sku, number)
                if first != number:
                    errors.append(_error(number, "sku", f"SKU '{sku}' is also in row {first}."))
            if name:
                first = seen_name.setdefault(name, number)
                if first != number:
                    errors.append(_error(number, "name", f"Name '{name}' is also in row {first}."))
            if len(errors) == row_errors:
                parsed.append((number, sku, name, category, price, cost, quantity))
            elif len(errors) >= MAX_ERRORS:
                errors.append(_error(None, None, f"Stopped after {MAX_ERRORS} errors."))
                break
    except _Unreadable as exc:
        raise SpreadsheetInvalid([_error(None, "file", str(exc))]) from exc
    if errors:
        raise SpreadsheetInvalid(errors)
    return parsed


# --- importing ----------------------------------------------------------------------------------


def _existing_products(skus: list[str], *, lock: bool) -> dict[str, tuple]:
    """{sku: (id, name, category_id, price, cost, quantity)}; locked in pk order when `lock`."""
    if not skus:
        return {}
    if connection.vendor == "postgresql":
        sql = (
            "SELECT sku, id, name, category_id, price, cost, quantity FROM inventory_product "
            "WHERE sku = ANY(%s) ORDER BY id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql + (" FOR UPDATE" if lock else ""), [skus])
            return {row[0]: row[1:] for row in cursor.fetchall()}
    # Elsewhere (SQLite) a write transaction already holds the whole database.
    found = {}
    for start in range(0, len(skus), 500):
        for row in Product.objects.filter(sku__in=skus[start : start + 500]).values_list(
            "sku", "id", "name", "category_id", "price", "cost", "quantity"
        ):
            found[row[0]] = row[1:]
    return found


def _name_owners(names: list[str]) -> dict[str, str]:
    """{name: sku} of the catalog's products with these names."""
    if not names:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sku FROM inventory_product WHERE name = ANY(%s)", [names])
            return dict(cursor.fetchall())
    owners = {}
    for start in range(0, len(names), 500):
        owners.update(
            Product.objects.filter(name__in=names[start : start + 500]).values_list("name", "sku")
        )
    return owners


def product_import(
    *,
    file: IO[bytes] | None = None,
    rows: Iterable[Sequence[Any]] | None = None,
    file_name: str = "",
    dry_run: bool = False,
    user=None,
    source: str = ImportBatch.Source.COMMAND,
) -> ImportResult:
    """Import products from a CSV/XLSX `file` (or from `rows`, header first). All or nothing.

    A known SKU updates its product, a new one creates it; an unknown category name (matched
    case-insensitively) creates the category; `quantity` sets stock on hand, each change kept
    as a stock movement (reason `import`) of one ImportBatch.
    Locks: the products it updates, FOR UPDATE in primary-key order, for the whole transaction.
    Raises SpreadsheetInvalid (nothing written) when the file cannot be read or any row is
    invalid. With `dry_run`, validates and counts without writing or locking.
    """
    if rows is None:
        if file is None:
            raise ValueError("product_import needs a file or rows")
        rows = read_rows(file, file_name)
    parsed = parse_rows(rows)
    try:
        with transaction.atomic():
            return _import(parsed, file_name=file_name, dry_run=dry_run, user=user, source=source)
    except IntegrityError as exc:
        # Another import or edit created the same SKU, name or category meanwhile.
        raise SpreadsheetInvalid(
            [_error(None, None, "The catalog changed during the import; try again.")]
        ) from exc


def _import(parsed: list[tuple], *, file_name, dry_run, user, source) -> ImportResult:
    existing = _existing_products([row[1] for row in parsed], lock=not dry_run)
    owners = _name_owners([row[2] for row in parsed])
    errors = []
    for number, sku, name, *_ in parsed:
        owner = owners.get(name)
        if owner is not None and owner != sku:
            errors.append(
                _error(number, "name", f"Name '{name}' already belongs to SKU '{owner}'.")
            )
    if errors:
        raise SpreadsheetInvalid(errors)

    categories = {name.lower(): pk for pk, name in Category.objects.values_list("id", "name")}
    new_categories: dict[str, str] = {}
    for row in parsed:
        key = row[3].lower()
        if key not in categories and key not in new_categories:
            new_categories[key] = row[3]

    result = ImportResult(dry_run=dry_run, rows=len(parsed))
    result.categories_created = len(new_categories)
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
    current: dict[int, int] = {}
    preview = result.preview
    for number, sku, name, category, price, cost, quantity in parsed:
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
            current[old[0]] = old[5]
            kind = "update"
        if len(preview) < _PREVIEW_ROWS and kind != "skip":
            preview.append((number, kind, (sku, name, category, price, cost, quantity)))
    result.created, result.updated = len(created), len(updated)
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
    stock_set_bulk(
        created=created,
        updated=updated,
        current=current,
        reason=StockMovement.Reason.IMPORT,
        actor=user,
        import_batch=result.batch,
    )
    return result


# --- exporting ----------------------------------------------------------------------------------


def export_rows(queryset=None) -> Iterator[tuple]:
    """The header, then one escaped row per product (by primary key), streamed."""
    if queryset is None:
        queryset = Product.objects.all()
    yield COLUMNS
    values = queryset.order_by("pk").values_list(
        "sku", "name", "category__name", "price", "cost", "quantity"
    )
    for sku, name, category, price, cost, quantity in values.iterator(chunk_size=5000):
        yield (
            escape_formula(sku),
            escape_formula(name),
            escape_formula(category),
            price,
            cost,
            quantity,
        )


def write_csv(rows: Iterable[Sequence[Any]], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)


def write_xlsx(rows: Iterable[Sequence[Any]], out: IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("products")
    for index, row in enumerate(rows):
        if index == 0:
            sheet.append(list(row))
            continue
        cells = list(row)
        for position in (3, 4):
            cell = WriteOnlyCell(sheet, value=cells[position])
            cell.number_format = "0.00"
            cells[position] = cell
        # Text cells are plain strings: openpyxl would turn an unescaped '=' into a formula.
        sheet.append(cells)
    workbook.save(out)


def product_export(*, file_format: str, queryset=None) -> bytes:
    """The catalog (or `queryset`) as a CSV (UTF-8 with BOM, for Excel) or XLSX file."""
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {FORMATS}")
    rows = export_rows(queryset)
    if file_format == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(rows, buffer)
        return buffer.getvalue()
    text = io.StringIO()
    write_csv(rows, text)
    return codecs.BOM_UTF8 + text.getvalue().encode("utf-8")


def export_file_name(file_format: str) -> str:
    return f"products-{timezone.localdate():%Y-%m-%d}.{file_format}"
