# ruff: noqa: E501  (tables of sheet XML read best one per line)
"""XLSX limits (API.md): a workbook that claims more than 1,048,576 rows or 16,384 columns is
refused unread, quickly, with a clear message, whatever door it comes through."""

import io
import time
import zipfile

import pytest

from inventory.spreadsheets import SpreadsheetInvalid, product_import
from inventory.tests.spreadsheet_helpers import HEADER, db_state, import_api

_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>"
    ),
}


def cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    return (
        '<row r="1">'
        + "".join(cell(f"{c}1", n) for c, n in zip("ABCDEF", HEADER, strict=True))
        + "</row>"
    )


def workbook(sheet_data: str, *, dimension: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in _PARTS.items():
            book.writestr(name, text)
        claim = f'<dimension ref="{dimension}"/>' if dimension else ""
        book.writestr(
            "xl/worksheets/sheet1.xml",
            '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main">{claim}<sheetData>{sheet_data}</sheetData></worksheet>',
        )
    return buffer.getvalue()


TOO_LARGE = {
    "row 3,000,000": workbook(header_row() + '<row r="3000000">' + cell("A3000000", "x") + "</row>"),
    "cell in row 3,000,000": workbook(header_row() + '<row r="2">' + cell("A3000000", "x") + "</row>"),
    "12-letter column": workbook(header_row() + '<row r="2">' + cell("ABCDEFGHIJKL2", "x") + "</row>"),
    "column XFE": workbook(header_row() + '<row r="2">' + cell("XFE2", "x") + "</row>"),
    "row 1,048,577": workbook(header_row() + "<row r='1048577'>" + cell("A1048577", "x") + "</row>"),
    "dimension": workbook(header_row(), dimension="A1:F2000000"),
    "huge dimension": workbook(header_row(), dimension="A1:ZZZZ99999999"),
    "used area": workbook(header_row() + '<row r="1048576">' + cell("XFD1048576", "x") + "</row>"),
}  # fmt: skip


@pytest.mark.parametrize("case", TOO_LARGE, ids=list(TOO_LARGE))
def test_xlsx_claiming_too_much_is_refused_unread_and_quickly(case, db):
    content = TOO_LARGE[case]
    assert len(content) < 2000
    start = time.perf_counter()
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(file=io.BytesIO(content), file_name="big.xlsx")
    assert time.perf_counter() - start < 0.5
    [error] = caught.value.errors
    assert (error["row"], error["field"]) == (None, "file")
    assert "The file was not read." in error["message"]
    assert db_state() == ([], [], 0, 0)


def test_xlsx_too_large_is_a_400_from_the_api(client_for, inventory_manager):
    response = client_for(inventory_manager).post(
        "/api/v1/products/import/",
        {"file": io.BytesIO(TOO_LARGE["12-letter column"])},
        format="multipart",
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "file"
    assert error["message"] == (
        "The sheet refers to a cell beyond the last row or column a spreadsheet holds "
        "(1,048,576 rows, 16,384 columns). The file was not read."
    )


def test_xlsx_within_limits_sparse_rows_keep_their_numbers(client_for, inventory_manager):
    rows = (
        header_row()
        + '<row r="5">'
        + "".join(
            cell(f"{c}5", v)
            for c, v in zip("ABCDEF", ["A", "Apple", "Fruit", "x", "0", "1"], strict=True)
        )
        + "</row>"
    )
    content = workbook(rows, dimension="A1:F5")
    assert import_api(client_for(inventory_manager), content, "p.xlsx") == (
        "invalid",
        [(5, "price")],
    )


@pytest.mark.parametrize(
    "first_row, first_column, message",
    [
        (1, 2, "Column 1 has no name in the header row."),
        (3, 1, "The file is empty: the first row must be the header"),
    ],
)
def test_xlsx_starting_away_from_a1_keeps_rows_and_columns(first_row, first_column, message, db):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for offset, values in enumerate((HEADER, ["A", "Apple", "Fruit", 1.5, 0, 2])):
        for column, value in enumerate(values, start=first_column):
            sheet.cell(row=first_row + offset, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(file=buffer, file_name="p.xlsx")
    [error] = caught.value.errors
    assert error["row"] == 1 and error["message"].startswith(message)


def test_xlsx_formulas_never_calculated_are_named_and_the_file_refused(
    client_for, inventory_manager
):
    """openpyxl writes formulas without their values: a reader would take the cells as empty
    ("price: this cell is required")."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["A", "Apple", "Fruit", "=1+1", "0", 2])
    sheet.append(["B", "Berry", "Fruit", "3", '=IF(1>0,"x","y")', "=2*" + "1+" * 1500 + "1"])
    buffer = io.BytesIO()
    book.save(buffer)

    response = client_for(inventory_manager).post(
        "/api/v1/products/import/", {"file": io.BytesIO(buffer.getvalue())}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "row": None,
            "field": "file",
            "message": "Cells D2, E3, F3: a formula whose value was never calculated (the "
            "program that wrote the file does not calculate formulas). Open the file in Excel or "
            "LibreOffice and save it again, or type the values. The file was not read.",
        }
    ]
    assert db_state() == ([], [], 0, 0)


def test_xlsx_formulas_with_their_saved_values_are_read(db):
    values = ["A", "Apple", "Fruit", None, "1", "2"]
    row = "".join(cell(f"{c}2", v) for c, v in zip("ABCDEF", values, strict=True) if v)
    row += '<c r="D2"><f>1+1</f><v>2</v></c>'
    content = workbook(header_row() + f'<row r="2">{row}</row>')

    result = product_import(file=io.BytesIO(content), file_name="p.xlsx")

    assert result.created == 1
    assert db_state()[0][0][:4] == ("A", "Apple", "Fruit", 2)


def test_xlsx_with_two_parts_of_the_same_name_is_refused(db):
    """zipfile reads the last of two same-named parts; another reader might read the first."""
    import warnings

    buffer = io.BytesIO(workbook(header_row()))
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "a") as book:
        warnings.simplefilter("ignore")  # "Duplicate name"
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    buffer.seek(0)
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(file=buffer, file_name="p.xlsx")
    assert caught.value.errors == [
        {"row": None, "field": "file", "message": "The file is not a valid XLSX workbook."}
    ]


def test_csv_of_more_lines_than_a_spreadsheet_holds_is_refused_unread(db, monkeypatch):
    monkeypatch.setattr("inventory.spreadsheets.read.MAX_ROWS", 3)
    lines = [b"sku,name,category,price,cost,quantity\n"] + [
        b"A%d,B%d,C,1,0,1\n" % (i, i) for i in range(3)
    ]
    content = b"".join(lines)
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(file=io.BytesIO(content), file_name="p.csv")
    [error] = caught.value.errors
    assert error["field"] == "file" and "The file was not read." in error["message"]
    assert error["message"].startswith("The file has 4 lines: more than a spreadsheet holds (3 ")
    assert product_import(file=io.BytesIO(b"".join(lines[:3])), file_name="p.csv").created == 2
