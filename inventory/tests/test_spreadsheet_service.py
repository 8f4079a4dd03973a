"""product_import as a service: stock ledger, progress, and concurrency."""

import io
import re
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from inventory.models import ImportBatch, Product, StockMovement
from inventory.services import stock_adjust
from inventory.spreadsheets import SpreadsheetInvalid, product_import
from inventory.tests.spreadsheet_helpers import HEADER, db_state


def test_product_import_rows_dry_run_counts_and_writes_nothing(db):
    rows = [HEADER, ["A", "Apple", "Fruit", "1", "0", "5"]]
    result = product_import(rows=rows, dry_run=True)
    assert (result.created, result.updated, result.categories_created, result.batch) == (
        1,
        0,
        1,
        None,
    )
    assert db_state() == ([], [], 0, 0)


def test_product_import_ledger_matches_stock(db, inventory_manager):
    product_import(rows=[HEADER, ["A", "Apple", "Fruit", "1", "0", "5"]], user=inventory_manager)
    product = Product.objects.get()
    stock_adjust(changes={product.pk: -2}, reason=StockMovement.Reason.ORDER)
    result = product_import(
        rows=[HEADER, ["A", "Apple", "Fruit", "1", "0", "10"]], user=inventory_manager
    )
    assert (result.updated, result.unchanged) == (1, 0)
    product.refresh_from_db()
    changes = list(StockMovement.objects.order_by("pk").values_list("change", "reason"))
    assert changes == [(5, "import"), (-2, "order"), (7, "import")]
    assert product.quantity == sum(change for change, _ in changes) == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_product_import_during_an_order_loses_neither_change():
    """An order holds the product's row lock; the import waits for it, then sets the stock
    from the committed value, so the ledger still adds up to the stock on hand."""
    product_import(rows=[HEADER, ["A", "Apple", "Fruit", "1", "0", "10"]])
    product = Product.objects.get()
    locked, release = threading.Event(), threading.Event()
    errors = []

    def order():
        try:
            with transaction.atomic():
                stock_adjust(changes={product.pk: -3}, reason=StockMovement.Reason.ORDER)
                locked.set()
                release.wait(10)
        except Exception as exc:  # noqa: BLE001  (reported by the test)
            errors.append(exc)
        finally:
            connection.close()

    def run_import():
        try:
            product_import(rows=[HEADER, ["A", "Apple", "Fruit", "2", "0", "50"]])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    seller = threading.Thread(target=order)
    seller.start()
    assert locked.wait(10)
    importer = threading.Thread(target=run_import)
    importer.start()
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:  # wait until the import blocks on the row lock
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.01)
    release.set()
    seller.join(10)
    importer.join(10)
    assert not errors

    product.refresh_from_db()
    changes = list(StockMovement.objects.order_by("pk").values_list("change", "reason"))
    assert changes == [(10, "import"), (-3, "order"), (43, "import")]
    assert (product.quantity, product.price) == (50, Decimal("2.00"))


def test_xlsx_rows_keep_sheet_row_numbers_across_gaps(db):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["A", "Apple", "Fruit", 1.5, 0, 1])
    sheet["A5"], sheet["B5"], sheet["C5"] = "B", "Banana", "Fruit"
    sheet["D5"], sheet["E5"], sheet["F5"] = "free", 0, 1
    sheet["A9"] = "  "  # a blank trailing row
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(file=buffer, file_name="gaps.xlsx")
    assert caught.value.errors == [
        {
            "row": 5,
            "field": "price",
            "message": "price free: not a number.",
            "value": "free",
            "reason": "not a number.",
        }
    ]


def test_product_import_takes_numbers_in_ascii_digits_only(db):
    rows = [HEADER, ["A", "Apple", "Fruit", "\u0661\u0662", "0", "\uff11"]]
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(rows=rows)
    assert [(e["field"], e["reason"]) for e in caught.value.errors] == [
        ("price", "not a number."),
        ("quantity", "not a whole number."),
    ]
    assert not Product.objects.exists()


def test_product_import_stops_listing_after_max_errors(db, monkeypatch):
    monkeypatch.setattr("inventory.spreadsheets.validate.MAX_ERRORS", 3)
    rows = [HEADER] + [[f"S{i}", f"N{i}", "C", "x", "0", "1"] for i in range(10)]
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(rows=rows)
    assert [(e["row"], e["field"]) for e in caught.value.errors] == [
        (2, "price"),
        (3, "price"),
        (4, "price"),
        (None, None),
    ]


def test_product_import_stops_listing_header_errors_after_max_errors(db, monkeypatch):
    # A file of one line of a million cells (a data row, no header) must not make a million
    # header errors: the list is capped like the rows' errors.
    monkeypatch.setattr("inventory.spreadsheets.validate.MAX_ERRORS", 3)
    content = ("x," * 50 + "x\r\n").encode()
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(file=io.BytesIO(content), file_name="wide.csv")
    assert [(e["row"], e["field"]) for e in caught.value.errors] == [
        (1, "x"),
        (1, "x"),
        (1, "x"),
        (None, None),
    ]
    assert caught.value.errors[-1]["message"] == "Stopped after 3 errors."


def test_product_import_reads_semicolon_csv_and_explains_decimal_commas(db):
    content = "sku;name;category;price;cost;quantity\r\nA;Apple, red;Fruit;1.50;0;2\r\n"
    result = product_import(file=io.BytesIO(content.encode()), file_name="excel.csv")
    assert result.created == 1
    assert Product.objects.get().name == "Apple, red"
    content = "sku;name;category;price;cost;quantity\r\nB;Pear;Fruit;1,50;0;2\r\n"
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(file=io.BytesIO(content.encode()), file_name="excel.csv")
    assert caught.value.errors == [
        {
            "row": 2,
            "field": "price",
            "message": "price 1,50: use a decimal point, not a comma.",
            "value": "1,50",
            "reason": "use a decimal point, not a comma.",
        }
    ]


@pytest.mark.parametrize("tty", [True, False])
def test_import_command_progress_counts_rows_through_every_stage_on_a_terminal(
    tty, db, tmp_path, monkeypatch
):
    from django.core.management import call_command

    class Terminal(io.StringIO):
        def isatty(self):
            return tty

    stderr = Terminal()
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.setattr("inventory.spreadsheets.read._REPORT_EVERY", 2)
    path = tmp_path / "p.csv"
    lines = [f"S{i},Product {i},Fruit,1,0,2" for i in range(5)]
    path.write_text("sku,name,category,price,cost,quantity\n" + "\n".join(lines) + "\n")
    out = io.StringIO()
    call_command("import_products", str(path), stdout=out)
    shown = stderr.getvalue()
    if tty:
        # Rows, not bytes: the file's 6 lines (header included), then the 5 products.
        for stage, count in (("Reading", 6), ("Checking", 5), ("Writing", 5)):
            assert re.search(rf"{stage}\s*: 100%.*\b{count}/{count} \[", shown), (stage, shown)
        assert "B/s" not in shown and "kB" not in shown
    else:
        assert shown == ""
    assert "Created 5, updated 0, left 0 unchanged (5 rows); 1 new category. Import #" in (
        out.getvalue()
    )


def test_product_import_reports_progress_in_rows(db, tmp_path, monkeypatch):
    monkeypatch.setattr("inventory.spreadsheets.read._REPORT_EVERY", 2)
    monkeypatch.setattr("inventory.spreadsheets.write.WRITE_CHUNK", 2)
    path = tmp_path / "p.csv"
    lines = [f"S{i},Product {i},Fruit,1,0,2" for i in range(5)]
    path.write_text("sku,name,category,price,cost,quantity\n" + "\n".join(lines) + "\n")
    calls = []
    product_import(path=path, progress=lambda *call: calls.append(call))
    assert calls == [
        ("reading", 0, 6),
        ("reading", 2, 6),
        ("reading", 4, 6),
        ("reading", 6, 6),
        ("reading", 6, 6),
        ("validating", 0, 5),
        ("validating", 5, 5),
        ("writing", 0, 5),
        ("writing", 2, 5),
        ("writing", 4, 5),
        ("writing", 5, 5),
    ]
    assert Product.objects.count() == 5
    assert ImportBatch.objects.get().file_name == "p.csv"

    calls.clear()
    product_import(path=path, dry_run=True, progress=lambda *call: calls.append(call))
    assert [call for call in calls if call[0] != "reading"] == [
        ("validating", 0, 5),
        ("validating", 2, 5),
        ("validating", 4, 5),
        ("validating", 5, 5),
    ]


def _rows(count: int) -> list[list[str]]:
    return [HEADER] + [[f"S{i}", f"Product {i}", "Fruit", "1", "0", "2"] for i in range(count)]


def test_product_import_bad_row_in_a_later_chunk_writes_nothing(db, monkeypatch):
    """Rows are checked and written in chunks; a bad row after the first chunk still leaves the
    catalog as it was (all or nothing across chunks)."""
    monkeypatch.setattr("inventory.spreadsheets.write.WRITE_CHUNK", 3)
    product_import(rows=_rows(2))
    before = db_state()
    rows = _rows(10)
    rows[1][5] = "7"  # an update of S0 in the first chunk
    rows[10][3] = "free"  # row 11, in the fourth chunk
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(rows=rows)
    assert [(e["row"], e["field"]) for e in caught.value.errors] == [(11, "price")]
    assert db_state() == before


def test_product_import_name_of_another_sku_in_a_later_chunk_writes_nothing(db, monkeypatch):
    monkeypatch.setattr("inventory.spreadsheets.write.WRITE_CHUNK", 3)
    product_import(rows=[HEADER, ["OLD", "Old name", "Fruit", "1", "0", "1"]])
    before = db_state()
    rows = _rows(10)
    rows[2] = ["OLD", "Renamed", "Fruit", "1", "0", "1"]  # row 3 renames OLD …
    rows[9][1] = "Old name"  # … row 10 takes its old name: still an error, as in one chunk
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(rows=rows)
    assert [(e["row"], e["field"], e["reason"]) for e in caught.value.errors] == [
        (10, "name", "already belongs to SKU 'OLD'.")
    ]
    assert db_state() == before


def test_product_import_repeated_sku_and_name_across_chunks_are_reported_by_row(db, monkeypatch):
    monkeypatch.setattr("inventory.spreadsheets.write.WRITE_CHUNK", 2)
    rows = _rows(8)
    rows[6][0] = "S1"  # row 7 repeats row 3's SKU
    rows[8][1] = "Product 0"  # row 9 repeats row 2's name
    rows[8][3] = "-1"  # and has a bad price: listed first, in the order of the row's cells
    with pytest.raises(SpreadsheetInvalid) as caught:
        product_import(rows=rows)
    assert [(e["row"], e["field"], e["message"]) for e in caught.value.errors] == [
        (7, "sku", "sku 'S1': also in row 3."),
        (9, "price", "price -1: cannot be negative."),
        (9, "name", "name 'Product 0': also in row 2."),
    ]
    assert db_state() == ([], [], 0, 0)
