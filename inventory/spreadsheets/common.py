"""What the reading, validating, writing and exporting steps share: the columns, the error
type, the upload size check, formula escaping and progress reports."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings

COLUMNS = ("sku", "name", "category", "price", "cost", "quantity")
TEXT_COLUMNS = ("sku", "name", "category")
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# progress(stage, rows_done, rows_total): stage is "reading", "validating" or "writing";
# rows_total is None while the number of rows is not known yet.
Progress = Callable[[str, int, int | None], None]


def no_progress(stage: str, done: int, total: int | None) -> None:
    pass


class SpreadsheetInvalid(Exception):
    """The file cannot be imported; `errors` lists every problem, nothing was written.

    Each error is {"row", "field", "message"}: the row as the spreadsheet numbers it (header =
    1; None for the whole file), the column (or "file"), and what is wrong, quoting the value.
    Where a cell is to blame, "value" holds what was found there.
    """

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the spreadsheet")


def error(
    row: int | None, field: str | None, message: str, value: Any = None, reason: str = ""
) -> dict[str, Any]:
    """One problem. `value`: what the cell holds (as shown to the user); `reason`: what is wrong
    with it, without the column and the value (the admin's error table shows them apart)."""
    found = {} if value is None else {"value": value, "reason": reason or message}
    return {"row": row, "field": field, "message": message, **found}


def file_error(message: str) -> SpreadsheetInvalid:
    return SpreadsheetInvalid([error(None, "file", message)])


# --- the upload size check ----------------------------------------------------------------------


def too_large_message() -> str:
    limit = settings.IMPORT_MAX_FILE_SIZE / (1024 * 1024)
    return f"The file is larger than the limit of {limit:g} MB."


def file_size(file: IO[bytes]) -> int:
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        size = file.seek(0, io.SEEK_END)
        file.seek(position)
    return size


def check_upload_size(size: int) -> None:
    """Raise SpreadsheetInvalid when a file of `size` bytes is over IMPORT_MAX_FILE_SIZE."""
    if size > settings.IMPORT_MAX_FILE_SIZE:
        raise file_error(too_large_message())


# --- formula escaping ---------------------------------------------------------------------------
# An exported text cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or an
# apostrophe gets one leading apostrophe, so no spreadsheet runs it as a formula. On import, a
# text cell that starts with an apostrophe followed by one of those loses that apostrophe, so an
# export re-imports unchanged.

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = tuple("'" + c for c in (*_DANGEROUS, "'"))


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
