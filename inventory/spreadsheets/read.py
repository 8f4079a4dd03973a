"""Reading: a CSV or XLSX file as rows of raw cell values, the header first.

XLSX files are read by python-calamine (a maintained Rust reader). Before it sees a workbook, the
first sheet's XML is scanned for the cell and row references it claims: a sheet that claims more
than Excel's 1,048,576 rows or 16,384 columns, or whose used area is too large to hold, is refused
unread (the reader holds the used area densely, and a reference such as r="3000000" or a
12-letter column would make it allocate for cells that are not there).
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from typing import IO, Any

# ElementTree never fetches external entities, and expat >= 2.4 (bundled with Python 3.11)
# caps entity expansion, so the stdlib parser is safe for the workbook's few small parts.
from xml.etree.ElementTree import ParseError, fromstring  # noqa: S405

import python_calamine
from django.conf import settings

from inventory.spreadsheets.common import (
    Progress,
    SpreadsheetInvalid,
    check_upload_size,
    error,
    file_error,
    file_size,
    no_progress,
)

MAX_ROWS = 1_048_576  # Excel's limits (API.md): a file that claims more is refused unread
MAX_COLUMNS = 16_384
# The reader holds the sheet's used area as a dense grid (about 32 bytes a cell): at most this
# many cells (160 MB), which is several times what a file within the upload limit can fill.
MAX_CELLS = 5_000_000
_REPORT_EVERY = 1000  # rows between two progress reports
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20


class Unreadable(Exception):
    """The file cannot be read (a message for the user); raised while rows are being read."""


def detect_format(file: IO[bytes], file_name: str) -> str:
    """'csv' or 'xlsx' from the name and the first bytes; raise SpreadsheetInvalid otherwise."""
    head = file.read(4)
    file.seek(0)
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if head == _ZIP_MAGIC or extension == "xlsx":
        return "xlsx"
    if extension in ("csv", "txt", ""):
        return "csv"
    raise file_error(f"Unsupported file type '.{extension}': upload a .csv or .xlsx file.")


def read_rows(
    file: IO[bytes], file_name: str = "", *, progress: Progress = no_progress
) -> Iterator[Sequence[Any]]:
    """The file's rows (the header first), cells as raw values; reports ("reading", rows read,
    rows expected). Raises SpreadsheetInvalid for a file that is too large or of another type
    before anything is read; the iterator raises Unreadable for a file that cannot be parsed."""
    check_upload_size(file_size(file))
    if detect_format(file, file_name) == "xlsx":
        rows, total = _xlsx_rows(file)
    else:
        total = _count_lines(file)
        if total > MAX_ROWS:
            raise file_error(
                f"The file has {total:,} lines: more than a spreadsheet holds ({MAX_ROWS:,} "
                "rows). The file was not read."
            )
        rows = _csv_rows(file)
    return _reporting(rows, total, progress)


def _reporting(rows: Iterator, total: int | None, progress: Progress) -> Iterator:
    progress("reading", 0, total)
    done = 0
    for done, row in enumerate(rows, 1):  # noqa: B007  (done is reported after the loop)
        if done % _REPORT_EVERY == 0:
            progress("reading", done, max(total or 0, done))
        yield row
    progress("reading", done, done)


# --- CSV ----------------------------------------------------------------------------------------


def _count_lines(file: IO[bytes]) -> int:
    """About the number of rows (a quoted cell may hold a line break): for progress only."""
    position, lines, last = file.tell(), 0, b"\n"
    for block in iter(lambda: file.read(_CHUNK), b""):
        lines += block.count(b"\n")
        last = block[-1:]
    file.seek(position)
    return lines + (last != b"\n")


def _csv_rows(file: IO[bytes]) -> Iterator[Sequence[Any]]:
    """CSV rows; the delimiter is the header line's most frequent of , ; and tab (Excel saves
    "CSV" with semicolons in many locales)."""
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        header = text.readline()
        delimiter = max(",;\t", key=header.count)
        yield from csv.reader(itertools.chain([header], text), delimiter=delimiter)
    except UnicodeDecodeError as exc:
        raise Unreadable("The file is not UTF-8 text: save it as 'CSV UTF-8'.") from exc
    except csv.Error as exc:
        raise Unreadable(f"The file is not a valid CSV file ({exc}).") from exc
    finally:
        with contextlib.suppress(ValueError):  # already closed by its owner
            text.detach()


# --- XLSX ---------------------------------------------------------------------------------------

_NOT_XLSX = "The file is not a valid XLSX workbook."
# What a damaged, truncated, encrypted or foreign zip makes zipfile, zlib and expat raise.
_CORRUPT = (
    KeyError,
    IndexError,
    ValueError,
    EOFError,
    OSError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # an unsupported compression method
    ParseError,
    zipfile.BadZipFile,
    zlib.error,
)
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# A cell's or a row's reference: r="AB12" (a cell) or r="12" (a row).
_REFERENCE = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)([0-9]*)["']""")
# A reference beyond any limit whatever its value: 4+ letters, or 8+ digits.
_HUGE_REFERENCE = re.compile(rb"""\sr\s*=\s*["'](?:[A-Za-z]{4}|[A-Za-z]*[0-9]{8})""")
_DIMENSION = re.compile(rb"""<(?:\w+:)?dimension\s+ref\s*=\s*["']([^"']*)["']""")
# A formula cell with no saved value (<c r="D2"><f>1+1</f><v /></c>), as written by programs
# that do not calculate (openpyxl): a reader sees it empty.
_UNCOMPUTED = re.compile(
    rb"""<(?:\w+:)?c\s+r\s*=\s*["']([A-Za-z]{1,3}[0-9]{1,7})["'][^>]*>\s*"""
    rb"""<(?:\w+:)?f\b[^>]*(?:/>|>[^<]{0,4000}</(?:\w+:)?f>)\s*"""
    rb"""(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"""
)
_TAIL = 8192  # bytes of a block read again with the next: a match may straddle the two
_AREA = re.compile(r"([A-Za-z]{0,3})([0-9]{0,7})(?::([A-Za-z]{0,3})([0-9]{0,7}))?\Z")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _relationships(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """{rId: (type, absolute target)} for a part's relationships."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in zf.namelist():
        return {}
    found = {}
    for element in fromstring(zf.read(rels)).iter(_RELS):  # noqa: S314
        target = element.get("Target", "")
        if target.startswith("/"):
            target = target.lstrip("/")
        else:
            target = posixpath.normpath(posixpath.join(folder, target))
        found[element.get("Id")] = (element.get("Type", ""), target)
    return found


def _first_sheet(zf: zipfile.ZipFile) -> tuple[str, str | None]:
    """The paths of the first sheet's XML and of the shared strings, as calamine finds them."""
    workbook = "xl/workbook.xml"
    for kind, target in _relationships(zf, "").values():  # _rels/.rels
        if kind.endswith("/officeDocument"):
            workbook = target
    if zf.getinfo(workbook).file_size > _CHUNK * 16:
        raise Unreadable(_NOT_XLSX)
    relationships = _relationships(zf, workbook)
    sheet = next(
        (e for e in fromstring(zf.read(workbook)).iter() if e.tag.endswith("}sheet")),  # noqa: S314
        None,
    )
    if sheet is None:
        raise Unreadable("The workbook has no sheet.")
    shared = next((t for k, t in relationships.values() if k.endswith("/sharedStrings")), None)
    return relationships[sheet.get(_REL_ID)][1], shared


def _beyond_limits() -> str:
    return (
        "The sheet refers to a cell beyond the last row or column a spreadsheet holds "
        f"({MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns). The file was not read."
    )


def _too_large(rows: int, columns: int) -> str | None:
    if rows > MAX_ROWS or columns > MAX_COLUMNS:
        return (
            f"The sheet claims {rows:,} rows and {columns:,} columns: more than a spreadsheet "
            f"holds ({MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns). The file was not read."
        )
    if rows * columns > MAX_CELLS:
        return (
            f"The sheet's used area ({rows:,} rows by {columns:,} columns) is too large: delete "
            "the empty rows and columns around the products. The file was not read."
        )
    return None


def check_xlsx_limits(file: IO[bytes]) -> None:
    """Refuse, before the reader sees it, a workbook whose first sheet claims more rows or
    columns than Excel's limits, or a used area of more than MAX_CELLS cells.

    Reads the sheet's XML once as bytes, without parsing it: the largest row and column that
    its `dimension` and its `r="…"` references name, and the formula cells that hold no saved
    value (refused too: a reader would see them empty). Raises SpreadsheetInvalid.
    """
    budget = 10 * settings.IMPORT_MAX_FILE_SIZE  # uncompressed XML, at most
    try:
        with zipfile.ZipFile(file) as zf:
            names = zf.namelist()
            if len(set(names)) != len(names):  # two readers could then read different parts
                raise Unreadable(_NOT_XLSX)
            sheet, shared = _first_sheet(zf)
            for part in (sheet, shared):
                if part and part in zf.namelist() and zf.getinfo(part).file_size > budget:
                    raise file_error("The workbook's sheet is too large to read.")
            letters: set[bytes] = set()
            numbers: set[bytes] = set()
            uncomputed: dict[bytes, None] = {}  # in the sheet's order, once each
            tail = b""
            with zf.open(sheet) as xml:
                for index, block in enumerate(iter(lambda: xml.read(_CHUNK), b"")):
                    window = tail + block
                    if index == 0:
                        claimed = _DIMENSION.search(window)
                        if claimed:
                            _check_dimension(claimed[1].decode("ascii", "replace"))
                    if _HUGE_REFERENCE.search(window):
                        raise file_error(_beyond_limits())
                    for column, row in _REFERENCE.findall(window):
                        letters.add(column)
                        numbers.add(row)
                    uncomputed.update(dict.fromkeys(_UNCOMPUTED.findall(window)))
                    tail = window[-_TAIL:]
    except SpreadsheetInvalid:
        raise
    except _CORRUPT as exc:
        raise file_error(_NOT_XLSX) from exc
    except Unreadable as exc:
        raise file_error(str(exc)) from exc
    rows = max((int(n) for n in numbers if n), default=0)
    columns = max((_column_number(c.decode()) for c in letters if c), default=0)
    problem = _too_large(rows, columns)
    if problem:
        raise file_error(problem)
    if uncomputed:
        raise file_error(_uncomputed_message([c.decode("ascii").upper() for c in uncomputed]))
    file.seek(0)


def _uncomputed_message(cells: list[str]) -> str:
    named = ", ".join(cells[:5]) + (f" and {len(cells) - 5:,} more" if len(cells) > 5 else "")
    return (
        f"{'Cell' if len(cells) == 1 else 'Cells'} {named}: a formula whose value was never "
        "calculated (the program that wrote the file does not calculate formulas). Open the "
        "file in Excel or LibreOffice and save it again, or type the values. The file was not "
        "read."
    )


def _check_dimension(reference: str) -> None:
    area = _AREA.match(reference.strip())
    if area is None:
        raise file_error(_beyond_limits())
    rows = max(int(area[2] or 0), int(area[4] or 0))
    columns = max(_column_number(area[1] or ""), _column_number(area[3] or ""))
    problem = _too_large(rows, columns)
    if problem:
        raise file_error(problem)


def _xlsx_rows(file: IO[bytes]) -> tuple[Iterator[Sequence[Any]], int]:
    """The first sheet's rows from row 1 and column A (blank rows included, so numbers match),
    and how many there are. Checks the limits first (SpreadsheetInvalid)."""
    check_xlsx_limits(file)
    try:
        sheet = python_calamine.CalamineWorkbook.from_filelike(file).get_sheet_by_index(0)
    except (python_calamine.CalamineError, *_CORRUPT) as exc:
        raise file_error(_NOT_XLSX) from exc
    if sheet.height == 0:
        return iter(()), 0
    (first_row, first_column), _ = sheet.start, sheet.end
    total = first_row + sheet.height

    def rows():
        yield from itertools.repeat([], first_row)  # the reader starts at the first used cell
        pad = [None] * first_column
        for row in sheet.iter_rows():
            yield pad + row if first_column else row

    return rows(), total


def unreadable_error(exc: Unreadable) -> SpreadsheetInvalid:
    return SpreadsheetInvalid([error(None, "file", str(exc))])
