"""Validating: raw rows (the header first) into checked product rows, without the database.

Every cell is required; cells are trimmed; blank rows are skipped; a text cell loses the
apostrophe that export's formula escaping added. Each problem is reported with the row as the
spreadsheet numbers it, the column, the value found and what is wrong, and the message quotes
the value ("price 12.345: at most 2 decimal places.").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from inventory.models import Category, Product
from inventory.spreadsheets.common import COLUMNS, SpreadsheetInvalid, error, unescape_formula
from inventory.spreadsheets.read import Unreadable, unreadable_error
from shop.validators import CONTROL_CHARACTERS

# API.md: single-line text refuses U+0000–U+001F (tab and newlines included) and U+007F: the
# rule of shop.validators, applied here to each text cell (the import writes by COPY, not
# through the model's validators).
_CONTROL = re.compile(CONTROL_CHARACTERS)
_CONTROL_MESSAGE = "control characters (U+0000–U+001F, U+007F) are not allowed"
_MAX_LENGTH = {
    "sku": Product._meta.get_field("sku").max_length,
    "name": Product._meta.get_field("name").max_length,
    "category": Category._meta.get_field("name").max_length,
}
_MAX_MONEY = Decimal("99999999.99")  # DecimalField(max_digits=10, decimal_places=2)
_MAX_QUANTITY = 2**31 - 1
# ASCII digits only: Python's \d and Decimal() also take "١٢" (Arabic-Indic) or "１" (full width).
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_INTEGER = re.compile(r"-?[0-9]+\Z")
_CENT = Decimal("0.01")
MAX_ERRORS = 5000  # a garbage file must not make a response of millions of errors


def shown(value: Any) -> str:
    """A cell's value as an error message quotes it: control characters made visible, long
    text cut."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if _CONTROL.search(text):
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 60 else text[:57] + "…"


class _Row:
    """Collects one row's errors."""

    __slots__ = ("errors", "number")

    def __init__(self, number: int, errors: list):
        self.number, self.errors = number, errors

    def bad(self, column: str, value: Any, reason: str) -> None:
        if value is None or value == "":
            self.errors.append(error(self.number, column, f"{column}: {reason}", "", reason))
            return
        found = shown(value)
        quoted = f"'{found}'" if column in ("sku", "name", "category") else found
        message = f"{column} {quoted}: {reason}"
        self.errors.append(error(self.number, column, message, found, reason))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if type(value) is float and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _money(value: Any, column: str, row: _Row) -> Decimal | None:
    raw = value
    if type(value) is str:
        value = value.strip()
        if not _NUMBER.match(value):
            if not value:
                row.bad(column, "", "this cell is required.")
            elif "," in value:
                row.bad(column, raw, "use a decimal point, not a comma.")
            else:
                row.bad(column, raw, "not a number.")
            return None
        amount = Decimal(value)
    elif type(value) in (int, float):
        amount = Decimal(repr(value))
        if not amount.is_finite():
            row.bad(column, raw, "not a number.")
            return None
    elif isinstance(value, Decimal):
        amount = value
    elif value is None:
        row.bad(column, "", "this cell is required.")
        return None
    else:
        row.bad(column, raw, "not a number.")
        return None
    if amount < 0:
        row.bad(column, raw, "cannot be negative.")
    elif column == "price" and amount == 0:
        row.bad(column, raw, "must be greater than 0.")
    elif amount.as_tuple().exponent < -2 and amount != amount.quantize(_CENT):
        row.bad(column, raw, "at most 2 decimal places.")
    elif amount > _MAX_MONEY:
        row.bad(column, raw, f"at most {_MAX_MONEY}.")
    else:
        return amount.quantize(_CENT)
    return None


def _quantity(value: Any, row: _Row) -> int | None:
    raw = value
    if type(value) is str:
        value = value.strip()
        if not _INTEGER.match(value):
            if not value:
                row.bad("quantity", "", "this cell is required.")
            elif _NUMBER.match(value):
                row.bad("quantity", raw, "must be a whole number.")
            else:
                row.bad("quantity", raw, "not a whole number.")
            return None
        number = int(value)
    elif type(value) is int:
        number = value
    elif type(value) is float:
        if not value.is_integer():
            row.bad("quantity", raw, "must be a whole number.")
            return None
        number = int(value)
    elif value is None:
        row.bad("quantity", "", "this cell is required.")
        return None
    else:
        row.bad("quantity", raw, "not a whole number.")
        return None
    if number < 0:
        row.bad("quantity", raw, "cannot be negative.")
    elif number > _MAX_QUANTITY:
        row.bad("quantity", raw, f"at most {_MAX_QUANTITY}.")
    else:
        return number
    return None


def _header(cells: Sequence[Any]) -> tuple[list[int], list[dict]]:
    """Positions of COLUMNS in the header row, and header errors."""
    names = [_text(c).lower() for c in cells]
    while names and not names[-1]:
        names.pop()
    errors = []
    positions: dict[str, int] = {}
    expected = ", ".join(COLUMNS)
    for index, name in enumerate(names):
        if len(errors) >= MAX_ERRORS:  # a data row of a million cells read as the header
            break
        if not name:
            errors.append(error(1, None, f"Column {index + 1} has no name in the header row."))
        elif _CONTROL.search(name) or name not in COLUMNS:
            errors.append(
                error(1, name, f"Unknown column '{shown(name)}': the columns are {expected}.")
            )
        elif name in positions:
            errors.append(error(1, name, f"Column '{name}' appears twice in the header row."))
        else:
            positions[name] = index
    for name in COLUMNS:
        if name not in positions:
            errors.append(error(1, name, f"Column '{name}' is missing from the header row."))
    return [positions.get(name, -1) for name in COLUMNS], errors


def parse_rows(rows: Iterable[Sequence[Any]], errors: list[dict]) -> Iterator[tuple]:
    """Validate rows (header first) without the database, one at a time.

    Yields (row number, sku, name, category, price, cost, quantity) for each row that is not
    blank, and appends its problems to `errors`; a cell with a problem is yielded as None.
    Stops once MAX_ERRORS problems are found. Raises SpreadsheetInvalid at once when the file
    is empty, its header is wrong (the header's errors alone) or it cannot be read. Repeated
    SKUs and names are not checked here: that needs the whole file (see `product_import`).
    """
    iterator = iter(rows)
    try:
        header = next(iterator, None)
        if header is None or not any(_text(c) for c in header):
            expected = ", ".join(COLUMNS)
            message = f"The file is empty: the first row must be the header ({expected})."
            raise SpreadsheetInvalid([error(1, None, message)])
        positions, header_errors = _header(header)
        if header_errors:
            raise SpreadsheetInvalid(listed(header_errors))
        yield from _parse_body(iterator, positions, errors)
    except Unreadable as exc:
        raise unreadable_error(exc) from exc


def _parse_body(iterator, positions: list[int], errors: list[dict]) -> Iterator[tuple]:
    width = len(COLUMNS)  # the header has exactly these columns, in any order
    p_sku, p_name, p_category, p_price, p_cost, p_quantity = positions
    number = 1
    for cells in iterator:
        number += 1
        if len(cells) != width:
            if any(_text(c) for c in cells[width:]):
                errors.append(error(number, None, "This row has more cells than the header."))
            cells = (list(cells) + [None] * width)[:width]
        texts = [
            unescape_formula(_text(cells[p_sku])),
            unescape_formula(_text(cells[p_name])),
            unescape_formula(_text(cells[p_category])),
        ]
        price, cost, quantity = cells[p_price], cells[p_cost], cells[p_quantity]
        if not any(texts) and not (_text(price) or _text(cost) or _text(quantity)):
            continue  # a blank row
        before = len(errors)
        row = _Row(number, errors)
        for index, column in enumerate(("sku", "name", "category")):
            value = texts[index]
            if not value:
                row.bad(column, "", "this cell is required.")
            elif _CONTROL.search(value):
                row.bad(column, value, f"{_CONTROL_MESSAGE}.")
            elif len(value) > _MAX_LENGTH[column]:
                row.bad(column, value, f"at most {_MAX_LENGTH[column]} characters.")
            else:
                continue
            texts[index] = None
        price = _money(price, "price", row)
        cost = _money(cost, "cost", row)
        quantity = _quantity(quantity, row)
        yield (number, *texts, price, cost, quantity)
        if len(errors) != before and len(errors) >= MAX_ERRORS:
            return


def repeated_error(number: int, column: str, value: str, first: int) -> dict[str, Any]:
    """The problem of a SKU or name already in row `first` of the file."""
    errors: list[dict] = []
    _Row(number, errors).bad(column, value, f"also in row {first}.")
    return errors[0]


def listed(errors: list[dict]) -> list[dict]:
    """The problems in row order (a row's own in the order found), at most MAX_ERRORS."""
    errors = sorted(errors, key=lambda found: found["row"] or 0)
    if len(errors) >= MAX_ERRORS:
        errors = errors[:MAX_ERRORS]
        errors.append(error(None, None, f"Stopped after {MAX_ERRORS} errors."))
    return errors
