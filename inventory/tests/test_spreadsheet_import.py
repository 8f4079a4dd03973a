# ruff: noqa: E501  (tables of spreadsheet rows read best one per line)
"""One file, one verdict: the admin (preview + confirm), the API and the command agree."""

import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from inventory.models import Category, ImportBatch, Product, StockMovement
from inventory.tests.spreadsheet_helpers import (
    HEADER,
    admin_preview,
    catalog,
    csv_bytes,
    db_state,
    import_admin,
    import_api,
    import_command,
    xlsx_bytes,
)

GOOD = [
    HEADER,
    ["A-1", "Apple", "Fruit", "1.50", "0.70", "10"],
    ["B-2", "Banana", "Fruit", "2", "1", "0"],
    ["C-3", "Carrot", "Vegetables", "0.99", "0.10", "7"],
]


@pytest.fixture
def doors(client, client_for, inventory_manager, tmp_path):
    client.force_login(inventory_manager)
    api = client_for(inventory_manager)
    return {
        "admin": lambda content, name, **kw: import_admin(client, content, name, **kw),
        "api": lambda content, name, **kw: import_api(api, content, name, **kw),
        "command": lambda content, name, **kw: import_command(tmp_path, content, name, **kw),
    }


@pytest.fixture
def existing(db):
    fruit = Category.objects.create(name="Fruit")
    return Product.objects.create(
        sku="OLD-1", name="Old apple", category=fruit, price=Decimal("3.00"), quantity=4
    )


BAD_FILES = {
    "missing column": (csv_bytes([HEADER[:3] + HEADER[4:], ["A", "B", "C", "1", "2"]]), "p.csv", [(1, "price")]),
    "unknown column": (csv_bytes([[*HEADER[:5], "qty"], ["A", "B", "C", "1", "2", "3"]]), "p.csv", [(1, "qty"), (1, "quantity")]),
    "no header": (b"", "p.csv", [(1, "")]),
    "empty required cell": (csv_bytes([HEADER, ["A", "", "C", "1", "0", "1"]]), "p.csv", [(2, "name")]),
    "text for a number": (csv_bytes([HEADER, ["A", "B", "C", "abc", "0", "1"]]), "p.csv", [(2, "price")]),
    "negative number": (csv_bytes([HEADER, ["A", "B", "C", "1", "0", "-1"]]), "p.csv", [(2, "quantity")]),
    "price zero": (csv_bytes([HEADER, ["A", "B", "C", "0", "0", "1"]]), "p.csv", [(2, "price")]),
    "three decimals": (csv_bytes([HEADER, ["A", "B", "C", "1", "0.125", "1"]]), "p.csv", [(2, "cost")]),
    "duplicate sku": (csv_bytes([HEADER, ["A", "B", "C", "1", "0", "1"], ["A", "D", "C", "1", "0", "1"]]), "p.csv", [(3, "sku")]),
    "duplicate name": (csv_bytes([HEADER, ["A", "B", "C", "1", "0", "1"], ["E", "B", "C", "1", "0", "1"]]), "p.csv", [(3, "name")]),
    "name of another sku": (csv_bytes([HEADER, ["NEW", "Old apple", "Fruit", "1", "0", "1"]]), "p.csv", [(2, "name")]),
    "not a spreadsheet": (b"%PDF-1.4 not a sheet", "p.pdf", [(0, "file")]),
    "corrupt xlsx": (b"PK\x03\x04 this is no zip", "p.xlsx", [(0, "file")]),
    "truncated xlsx": (xlsx_bytes(GOOD)[:2000], "p.xlsx", [(0, "file")]),
    "binary csv": (b"\xff\xfe\x00\x00garbage", "p.csv", [(0, "file")]),
    "bad rows in xlsx": (xlsx_bytes([HEADER, ["A", "B", "C", -2, 1.255, 1.5]]), "p.xlsx", [(2, "cost"), (2, "price"), (2, "quantity")]),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_import_bad_file_same_verdict_everywhere_and_nothing_written(case, doors, existing):
    content, name, expected = BAD_FILES[case]
    before = db_state()
    for door, run in doors.items():
        assert run(content, name) == ("invalid", expected), door
        assert db_state() == before, door


def test_import_every_bad_row_is_listed(doors, db):
    content = csv_bytes(
        [
            HEADER,
            ["A", "B", "C", "x", "0", "1"],
            ["D", "E", "F", "1", "0", "1"],
            ["", "G", "H", "1", "-1", "y"],
        ]
    )
    for door, run in doors.items():
        assert run(content, "p.csv") == (
            "invalid",
            [(2, "price"), (4, "cost"), (4, "quantity"), (4, "sku")],
        ), door
    assert Product.objects.count() == 0


@override_settings(IMPORT_MAX_FILE_SIZE=100)
def test_import_file_over_size_limit_is_refused(doors, db):
    content = csv_bytes([HEADER] + [[f"S{i}", f"N{i}", "C", "1", "0", "1"] for i in range(20)])
    for door, run in doors.items():
        assert run(content, "p.csv") == ("invalid", [(0, "file")]), door
    assert db_state() == ([], [], 0, 0)


@pytest.mark.parametrize("door", ["admin", "api", "command"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_import_good_file_creates_products_categories_and_movements(
    door, file_format, doors, inventory_manager
):
    content = csv_bytes(GOOD) if file_format == "csv" else xlsx_bytes(GOOD)
    dry = doors[door](
        content,
        f"p.{file_format}",
        **({"confirm": False} if door == "admin" else {"dry_run": True}),
    )
    assert dry == ("ok", 3, 0)
    assert db_state() == ([], [], 0, 0)

    assert doors[door](content, f"p.{file_format}") == ("ok", 3, 0)

    assert catalog() == {
        "A-1": ("Apple", "Fruit", Decimal("1.50"), Decimal("0.70"), 10),
        "B-2": ("Banana", "Fruit", Decimal("2.00"), Decimal("1.00"), 0),
        "C-3": ("Carrot", "Vegetables", Decimal("0.99"), Decimal("0.10"), 7),
    }
    batch = ImportBatch.objects.get()
    assert (batch.source, batch.file_name, batch.rows) == (door, f"p.{file_format}", 3)
    assert (batch.created_count, batch.updated_count, batch.categories_created) == (3, 0, 2)
    movements = StockMovement.objects.order_by("product__sku")
    assert [(m.product.sku, m.change, m.quantity_after, m.reason, m.import_batch_id) for m in movements] == [
        ("A-1", 10, 10, "import", batch.pk),
        ("C-3", 7, 7, "import", batch.pk),
    ]  # fmt: skip
    if door != "command":
        assert batch.user == inventory_manager
        assert all(m.actor == inventory_manager for m in movements)


def test_import_updates_set_stock_and_record_the_difference(doors, existing):
    content = csv_bytes(
        [
            HEADER,
            ["OLD-1", "Old apple", "fruit", "3.50", "1.00", "9"],
            ["N-1", "New", "Fruit", "1", "0", "0"],
        ]
    )
    assert doors["api"](content, "p.csv") == ("ok", 1, 1)
    existing.refresh_from_db()
    assert (existing.price, existing.cost, existing.quantity) == (
        Decimal("3.50"),
        Decimal("1.00"),
        9,
    )
    assert existing.category.name == "Fruit"  # matched case-insensitively, no new category
    assert Category.objects.count() == 1
    movement = StockMovement.objects.get()
    assert (movement.product, movement.change, movement.quantity_after) == (existing, 5, 9)

    # The same file again: nothing to do, no movement.
    assert doors["command"](content, "p.csv") == ("ok", 0, 0)
    assert StockMovement.objects.count() == 1
    assert ImportBatch.objects.first().unchanged_count == 2


def test_import_tolerates_bom_spaces_blank_rows_and_extra_sheets(doors, db):
    rows = [
        [" SKU ", "Name", "category", "price", "cost", " quantity"],
        ["  A-1 ", " Apple  ", " Fruit", " 1.50 ", "0.7", " 3 "],
        ["", "", "", "", "", ""],
        ["B-2", "Banana", "Fruit", "2.00", "0", "1"],
        [],
        ["", "  ", "", "", "", ""],
    ]
    assert doors["api"](csv_bytes(rows, bom=True), "p.csv") == ("ok", 2, 0)
    assert catalog()["A-1"] == ("Apple", "Fruit", Decimal("1.50"), Decimal("0.70"), 3)
    xlsx = xlsx_bytes(
        [HEADER, ["C-3", "Cherry", "Fruit", 4.2, 1, 2], [None] * 6],
        extra_sheet_rows=[HEADER, ["Z", "Ignored", "X", 1, 1, 1]],
    )
    assert doors["admin"](xlsx, "p.xlsx") == ("ok", 1, 0)
    assert set(catalog()) == {"A-1", "B-2", "C-3"}
    assert catalog()["C-3"] == ("Cherry", "Fruit", Decimal("4.20"), Decimal("1.00"), 2)


def test_import_requires_a_file(client_for, inventory_manager):
    response = client_for(inventory_manager).post(
        "/api/v1/products/import/", {"dry_run": "true"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_import_command_unknown_file_fails(tmp_path, db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as exc:
        call_command("import_products", str(tmp_path / "missing.csv"))
    assert str(exc.value) == f"No such file: {tmp_path / 'missing.csv'}"


@pytest.mark.parametrize(
    ("path", "says"),
    [("folder.csv", "is a folder"), ("/dev/null", "is not a regular file")],
)
def test_import_command_path_that_is_no_file_says_what_it_is(tmp_path, db, path, says):
    from django.core.management import CommandError, call_command

    (tmp_path / "folder.csv").mkdir()
    path = str(tmp_path / path)  # an absolute path stays as it is

    with pytest.raises(CommandError) as exc:  # was "No such file", though it exists
        call_command("import_products", path)
    assert str(exc.value).startswith(f"{path} {says}")
    assert exc.value.returncode == 1


def test_admin_confirm_after_the_catalog_changed_writes_nothing(client, inventory_manager):
    client.force_login(inventory_manager)
    content = csv_bytes([HEADER, ["A-1", "Apple", "Fruit", "1", "0", "1"]])
    token = admin_preview(client, content, "p.csv").context["confirm_form"].initial["token"]
    # Meanwhile someone else gives the name "Apple" to another SKU.
    Product.objects.create(
        sku="OTHER", name="Apple", category=Category.objects.create(name="X"), price=1
    )
    before = db_state()
    response = client.post(reverse("admin:inventory_product_import"), {"token": token})
    assert response.status_code == 200
    assert [
        (e["row"], e["field"], e["value"], e["reason"]) for e in response.context["errors"]
    ] == [(2, "name", "Apple", "already belongs to SKU 'OTHER'.")]
    assert "Already belongs to SKU &#x27;OTHER&#x27;." in response.content.decode()
    assert db_state() == before


def test_admin_preview_shows_errors_as_a_table_quoting_each_value(client, inventory_manager):
    client.force_login(inventory_manager)
    content = csv_bytes(
        [
            HEADER,
            ["A-1", "Apple", "Fruit", "12.345", "0", "1"],
            ["B\x1b", "", "Fruit", "1", "0", "x"],
        ]
    )
    response = admin_preview(client, content, "p.csv")
    page = response.content.decode()
    assert "Nothing was imported: p.csv has 4 problems." in page
    rows = re.findall(
        r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td class=\"value\">(.*?)</td>\s*<td>(.*?)</td>",
        page,
        re.S,
    )
    assert rows == [
        ("2", "price", "12.345", "At most 2 decimal places."),
        ("3", "sku", "B\\x1b", "Control characters (U+0000–U+001F, U+007F) are not allowed."),
        ("3", "name", "<em>(empty)</em>", "This cell is required."),
        ("3", "quantity", "x", "Not a whole number."),
    ]
    assert response.context["errors"][0]["message"] == "price 12.345: at most 2 decimal places."
    assert 'name="token"' not in page  # nothing to confirm
    assert db_state() == ([], [], 0, 0)


def test_admin_preview_summary_in_plain_english(client, inventory_manager, existing):
    client.force_login(inventory_manager)
    content = csv_bytes(
        [
            HEADER,
            ["OLD-1", "Old apple", "Fruit", "3.00", "0", "4"],
            ["N-1", "Pear", "Pears", "1", "0", "2"],
        ]
    )
    page = admin_preview(client, content, "p.csv").content.decode()
    assert "Would create 1, update 0 and leave 1 unchanged (2 rows); 1 new category." in page
    assert "New category: Pears." in page


@pytest.mark.parametrize(
    "forge",
    [
        "missing",
        "empty",
        "garbage",
        "path in the token",
        "tampered",
        "another user's",
        "file gone",
        "expired",
    ],
)
def test_admin_confirm_refuses_a_forged_or_stale_token(
    forge, client, inventory_manager, superuser, tmp_path, settings, monkeypatch
):
    """The confirm step names the upload by a signed token: whatever the browser sends instead,
    the answer is the upload form with an error, nothing is read, deleted or imported."""
    from django.core import signing

    from inventory.spreadsheets import uploads

    victim = tmp_path / "secret.csv"
    victim.write_bytes(csv_bytes([HEADER, ["S", "Secret", "X", "1", "0", "1"]]))
    client.force_login(inventory_manager)
    content = csv_bytes([HEADER, ["A-1", "Apple", "Fruit", "1", "0", "1"]])
    token = admin_preview(client, content, "p.csv").context["confirm_form"].initial["token"]
    data = {"token": token}
    if forge == "missing":
        data = {"confirm": "Confirm import"}
    elif forge == "empty":
        data = {"token": ""}
    elif forge == "garbage":
        data = {"token": "../../etc/passwd"}
    elif forge == "path in the token":
        data = {
            "token": signing.dumps(
                {"name": str(victim), "user": inventory_manager.pk, "file_name": "x.csv"}
            )
        }
    elif forge == "tampered":
        data = {"token": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")}
    elif forge == "another user's":
        client.force_login(superuser)
    elif forge == "file gone":
        name = signing.loads(token, salt=uploads.SALT)["name"]
        uploads.upload_storage().delete(name)
    elif forge == "expired":
        monkeypatch.setattr(uploads, "MAX_AGE", -1)
    response = client.post(reverse("admin:inventory_product_import"), data)
    assert response.status_code == 200
    assert response.context["upload_error"] == uploads.UploadExpired.message
    assert db_state() == ([], [], 0, 0)
    assert victim.exists()


def test_admin_upload_is_stored_under_a_random_name_and_deleted_after_confirm(
    client, inventory_manager
):
    from django.core import signing

    from inventory.spreadsheets import uploads

    client.force_login(inventory_manager)
    content = csv_bytes([HEADER, ["A-1", "Apple", "Fruit", "1", "0", "1"]])
    token = admin_preview(client, content, "../../p.csv").context["confirm_form"].initial["token"]
    name = signing.loads(token, salt=uploads.SALT)["name"]
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", name)
    assert uploads.upload_storage().exists(name)
    assert (
        client.post(reverse("admin:inventory_product_import"), {"token": token}).status_code == 302
    )
    assert not uploads.upload_storage().exists(name)
    assert ImportBatch.objects.get().file_name == "p.csv"  # a label only, never a path
    # The same token again: the upload is gone, nothing is imported twice.
    response = client.post(reverse("admin:inventory_product_import"), {"token": token})
    assert response.context["upload_error"] == uploads.UploadExpired.message
    assert ImportBatch.objects.count() == 1
