"""Export: escaped formulas in CSV and XLSX, a round trip that changes nothing, and roles."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from inventory.models import Category, ImportBatch, Product, StockMovement
from inventory.spreadsheets import escape_formula, unescape_formula
from inventory.tests.spreadsheet_helpers import (
    HEADER,
    catalog,
    import_admin,
    import_api,
    import_command,
    read_xlsx,
)

TRICKY_NAMES = ['=HYPERLINK("x")', "+1 555", "-Sale-", "@SUM(A1)", "'+Plus", "'Quoted", "''=both"]


@pytest.fixture
def products(db):
    fruit = Category.objects.create(name="=Fruit")
    Product.objects.bulk_create(
        Product(
            sku=f"-S{i}",
            name=name,
            category=fruit,
            price=Decimal("1.25") + i,
            cost=Decimal("0.50"),
            quantity=i,
        )
        for i, name in enumerate(TRICKY_NAMES)
    )
    Product.objects.create(
        sku="PLAIN", name="Plain", category=fruit, price=Decimal("99999999.99"), quantity=0
    )
    return catalog()


@pytest.mark.parametrize(
    "value, escaped",
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
     ("\rx", "'\rx"), ("'x", "''x"), ("x=1", "x=1"), ("", "")],
)  # fmt: skip
def test_escape_formula_prefixes_and_round_trips(value, escaped):
    assert escape_formula(value) == escaped
    assert unescape_formula(escaped) == value


def test_export_csv_escapes_formulas(client_for, inventory_manager, products):
    response = client_for(inventory_manager).get("/api/v1/products/export/?file_format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    names = [row[1] for row in rows[1:]]
    assert names[:7] == [
        '\'=HYPERLINK("x")',
        "'+1 555",
        "'-Sale-",
        "'@SUM(A1)",
        "''+Plus",
        "''Quoted",
        "'''=both",
    ]
    assert {row[0][:2] for row in rows[1:-1]} == {"'-"}
    assert {row[2] for row in rows[1:]} == {"'=Fruit"}
    assert rows[1][3:] == ["1.25", "0.50", "0"]  # numbers are not escaped


def test_export_xlsx_escapes_formulas_and_keeps_numbers(client_for, inventory_manager, products):
    response = client_for(inventory_manager).get("/api/v1/products/export/?file_format=xlsx")
    assert response.status_code == 200
    sheet = read_xlsx(response.content)
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == HEADER
    first = rows[1]
    assert [c.value for c in first[:3]] == ["'-S0", '\'=HYPERLINK("x")', "'=Fruit"]
    assert all(c.data_type == "s" for row in rows for c in row[:3])  # never a formula
    assert (first[3].value, first[5].value, first[3].data_type) == (1.25, 0, "n")


def test_export_unknown_format_is_400(client_for, inventory_manager, db):
    response = client_for(inventory_manager).get("/api/v1/products/export/?file_format=pdf")
    assert response.status_code == 400


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(
    file_format, client_for, inventory_manager, products, tmp_path
):
    client = client_for(inventory_manager)
    content = client.get(f"/api/v1/products/export/?file_format={file_format}").content
    movements = StockMovement.objects.count()
    assert import_api(client, content, f"p.{file_format}") == ("ok", 0, 0)
    assert import_command(tmp_path, content, f"p.{file_format}") == ("ok", 0, 0)
    assert catalog() == products
    assert StockMovement.objects.count() == movements
    assert ImportBatch.objects.first().unchanged_count == len(products)


def test_export_command_writes_the_file_by_extension(products, tmp_path):
    for name in ("out.csv", "out.xlsx"):
        call_command("export_products", str(tmp_path / name), stdout=io.StringIO())
        assert import_command(tmp_path, (tmp_path / name).read_bytes(), name) == ("ok", 0, 0)
    assert catalog() == products


def test_admin_export_and_import_round_trip(client, inventory_manager, products):
    client.force_login(inventory_manager)
    for extension in ("csv", "xlsx"):
        response = client.post(
            reverse("admin:inventory_product_export"), {"file_format": extension}
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].endswith(f'.{extension}"')
        assert import_admin(client, response.content, f"p.{extension}") == ("ok", 0, 0)
    assert catalog() == products


# --- permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["order_manager", "analyst", "customer"])
def test_api_import_export_forbidden_for_other_roles(role, request, client_for, db):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/api/v1/products/export/").status_code == 403
    response = client.post("/api/v1/products/import/", {}, format="multipart")
    assert response.status_code == 403
    assert ImportBatch.objects.count() == 0


def test_api_import_export_need_authentication(api_client, db):
    assert api_client.get("/api/v1/products/export/").status_code == 401
    assert api_client.post("/api/v1/products/import/", {}, format="multipart").status_code == 401


def test_api_import_export_allowed_for_superuser(client_for, superuser):
    client = client_for(superuser)
    assert client.get("/api/v1/products/export/?file_format=xlsx").status_code == 200


@pytest.mark.parametrize("role", ["order_manager", "analyst"])
def test_admin_import_export_forbidden_for_other_roles(role, request, client, db):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("admin:inventory_product_import")).status_code == 403
    assert client.get(reverse("admin:inventory_product_export")).status_code == 403
    assert client.get(reverse("admin:inventory_importbatch_changelist")).status_code == 403


def test_admin_pages_open_for_inventory_manager(client, inventory_manager, products):
    client.force_login(inventory_manager)
    assert client.get(reverse("admin:inventory_product_import")).status_code == 200
    assert client.get(reverse("admin:inventory_product_export")).status_code == 200
    response = client.get(reverse("admin:inventory_product_changelist"))
    assert response.status_code == 200
    assert reverse("admin:inventory_product_import").encode() in response.content
    assert client.get(reverse("admin:inventory_importbatch_changelist")).status_code == 200


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_query_count_does_not_grow_with_products(
    file_format, client_for, inventory_manager, products, django_assert_num_queries
):
    client = client_for(inventory_manager)
    url = f"/api/v1/products/export/?file_format={file_format}"
    with django_assert_num_queries(4):  # user, user permissions, group permissions, products
        assert client.get(url).status_code == 200
    category = Category.objects.get()
    Product.objects.bulk_create(
        Product(sku=f"X{i}", name=f"Extra {i}", category=category, price=1) for i in range(30)
    )
    with django_assert_num_queries(4):
        response = client.get(url)
    assert response.status_code == 200


def test_export_of_stored_control_characters_never_fails(client_for, inventory_manager, db):
    """Names stored before control characters were refused: XLSX replaces the ones XML cannot
    hold, CSV keeps them, and importing such a file back names the row and the column."""
    category = Category.objects.create(name="Bells\x1b")
    Product.objects.bulk_create(
        [Product(sku="BELL", name="Bell\x07 \x1b[31mred", category=category, price=1)]
    )
    client = client_for(inventory_manager)
    response = client.get("/api/v1/products/export/?file_format=xlsx")
    assert response.status_code == 200
    row = [c.value for c in list(read_xlsx(response.content).iter_rows())[1]]
    assert row[:3] == ["BELL", "Bell\ufffd \ufffd[31mred", "Bells\ufffd"]

    response = client.get("/api/v1/products/export/?file_format=csv")
    assert response.status_code == 200
    assert "Bell\x07 \x1b[31mred" in response.content.decode("utf-8-sig")
    before = catalog()
    assert import_api(client, response.content, "p.csv") == (
        "invalid",
        [(2, "category"), (2, "name")],
    )
    assert catalog() == before
