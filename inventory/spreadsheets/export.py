"""Exporting: the catalog as CSV or XLSX in the import's columns, formulas escaped.

Text stored before control characters were refused may hold characters that XML, so an XLSX
file, cannot (U+0000–U+001F other than tab, line feed and carriage return): the XLSX export
writes U+FFFD in their place, so it never fails on them. CSV keeps every character.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from inventory.models import Product
from inventory.spreadsheets.common import COLUMNS, FORMATS, escape_formula


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


def xlsx_text(value: str) -> str:
    """Text an XLSX cell can hold: characters XML 1.0 forbids become U+FFFD."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def write_xlsx(rows: Iterable[Sequence[Any]], out: IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("products")
    for index, row in enumerate(rows):
        if index == 0:
            sheet.append(list(row))
            continue
        cells = [xlsx_text(row[0]), xlsx_text(row[1]), xlsx_text(row[2]), *row[3:]]
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
