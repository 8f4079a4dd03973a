"""A streaming reader of an XLSX workbook's first sheet: cell values only, row by row.

openpyxl's read-only mode builds a cell object, a coordinate and a style lookup for every cell;
an import needs none of that. This reader walks the sheet's XML with ElementTree's C parser and
yields plain values, several times faster, in constant memory (shared strings aside).
Values: str for text, int or float for numbers (dates stay serial numbers), bool, None.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

# ElementTree never fetches external entities, and expat >= 2.4 (bundled with Python 3.11)
# caps entity expansion ("billion laughs"), so the stdlib parser is safe for uploaded files.
from xml.etree.ElementTree import ParseError, iterparse  # noqa: S405

_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


class XlsxError(Exception):
    """The workbook cannot be read."""


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


def _parse(zf: zipfile.ZipFile, name: str):
    with zf.open(name) as part:
        for _, element in iterparse(part, events=("end",)):  # noqa: S314
            yield element


def _relationships(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """{rId: (type, absolute target)} for a part's relationships."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    found = {}
    if rels not in zf.namelist():
        return found
    for element in _parse(zf, rels):
        if element.tag == _RELS:
            target = element.get("Target", "")
            target = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            found[element.get("Id")] = (element.get("Type", ""), target)
    return found


def _shared_strings(zf: zipfile.ZipFile, path: str | None, ns: str, limit: int) -> list[str]:
    if not path or path not in zf.namelist():
        return []
    if zf.getinfo(path).file_size > limit:  # a zip bomb: held in memory, unlike the sheet
        raise XlsxError("the shared strings are too large")
    strings = []
    si, t, rph = f"{ns}si", f"{ns}t", f"{ns}rPh"
    for element in _parse(zf, path):
        if element.tag == si:
            # Plain or rich text: every <t> of the item, except phonetic runs.
            for phonetic in element.findall(rph):
                element.remove(phonetic)
            strings.append("".join(node.text or "" for node in element.iter(t)))
            element.clear()
    return strings


def _column(reference: str) -> int:
    index = 0
    for char in reference:
        if char.isdigit():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index - 1


def _number(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def first_sheet_rows(file: IO[bytes], *, max_strings_size: int) -> Iterator[list[Any]]:
    """Rows of the workbook's first sheet (blank rows included, so numbering matches)."""
    try:
        zf = zipfile.ZipFile(file)
    except _CORRUPT as exc:
        raise XlsxError("not a zip archive") from exc
    with zf:
        try:
            yield from _rows(zf, max_strings_size)
        except _CORRUPT as exc:
            raise XlsxError(str(exc)) from exc


def _rows(zf: zipfile.ZipFile, max_strings_size: int) -> Iterator[list[Any]]:
    workbook = "xl/workbook.xml"
    for kind, target in _relationships(zf, "").values():  # _rels/.rels
        if kind.endswith("/officeDocument"):
            workbook = target
    relationships = _relationships(zf, workbook)
    sheet_path = shared_path = ns = None
    for element in _parse(zf, workbook):
        if element.tag.endswith("}sheet") and sheet_path is None:
            sheet_path = relationships[element.get(_REL)][1]
        elif element.tag.endswith("}workbook"):
            ns = element.tag[: element.tag.index("}") + 1]
    if sheet_path is None or ns is None:
        raise XlsxError("no sheet")
    for kind, target in relationships.values():
        if kind.endswith("/sharedStrings"):
            shared_path = target
    shared = _shared_strings(zf, shared_path, ns, max_strings_size)

    row_tag, cell_tag, value_tag = f"{ns}row", f"{ns}c", f"{ns}v"
    inline_tag, text_tag = f"{ns}is", f"{ns}t"
    expected = 1  # the next row number
    row: list[Any] = []
    for element in _parse(zf, sheet_path):
        tag = element.tag
        if tag == cell_tag:
            kind = element.get("t")
            if kind == "inlineStr":
                inline = element.find(inline_tag)
                value = (
                    "".join(t.text or "" for t in inline.iter(text_tag))
                    if inline is not None
                    else None
                )
            else:
                node = element.find(value_tag)
                text = node.text if node is not None else None
                if text is None:
                    value = None
                elif kind is None or kind == "n":
                    value = _number(text)
                elif kind == "s":
                    value = shared[int(text)]
                elif kind == "b":
                    value = text == "1"
                else:  # "str" (a formula's text), "e" (an error such as #N/A), "d" (ISO date)
                    value = text
            reference = element.get("r")
            position = _column(reference) if reference else len(row)
            if position > len(row):
                row.extend([None] * (position - len(row)))
            row.append(value)
            element.clear()
        elif tag == row_tag:
            number = element.get("r")
            number = int(number) if number else expected
            while expected < number:  # rows the XML leaves out are blank rows
                yield []
                expected += 1
            yield row
            expected += 1
            row = []
            element.clear()
