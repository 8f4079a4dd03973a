"""Build spreadsheet files and push them through the three doors: admin, API, command."""

import csv
import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from inventory.models import Category, ImportBatch, Product, StockMovement

HEADER = ["sku", "name", "category", "price", "cost", "quantity"]


def csv_bytes(rows, *, bom=False) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode()


def xlsx_bytes(rows, *, extra_sheet_rows=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    if extra_sheet_rows is not None:
        other = workbook.create_sheet("other")
        for row in extra_sheet_rows:
            other.append(list(row))
        workbook.active = 1  # the active sheet is not the first: we read the first
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_xlsx(content: bytes):
    workbook = load_workbook(io.BytesIO(content))
    return workbook.worksheets[0]


def db_state():
    """Everything an import may touch, to compare before and after."""
    return (
        list(
            Product.objects.order_by("pk").values_list(
                "sku", "name", "category__name", "price", "cost", "quantity"
            )
        ),
        list(Category.objects.order_by("pk").values_list("name", flat=True)),
        StockMovement.objects.count(),
        ImportBatch.objects.count(),
    )


def catalog():
    return {
        sku: (name, category, price, cost, quantity)
        for sku, name, category, price, cost, quantity in Product.objects.values_list(
            "sku", "name", "category__name", "price", "cost", "quantity"
        )
    }


# A verdict is ("ok", created, updated) or ("invalid", sorted [(row, field)]).


def import_api(client, content: bytes, name: str, *, dry_run=False):
    upload = SimpleUploadedFile(name, content)
    response = client.post(
        "/api/v1/products/import/",
        {"file": upload, "dry_run": "true" if dry_run else "false"},
        format="multipart",
    )
    body = response.json()
    if response.status_code == 200:
        assert body["dry_run"] is dry_run
        return ("ok", body["created"], body["updated"])
    assert response.status_code == 400, body
    return ("invalid", sorted((e["row"] or 0, e["field"] or "") for e in body["errors"]))


_LINE = re.compile(r"^(?:row (\d+)|file)(?:, column ([^:]+))?: ")


def import_command(tmp_path, content: bytes, name: str, *, dry_run=False):
    path = tmp_path / name
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    args = [str(path)] + (["--dry-run"] if dry_run else [])
    try:
        call_command("import_products", *args, stdout=out, stderr=err)
    except CommandError as exc:
        assert exc.returncode == 1
        errors = []
        for line in err.getvalue().splitlines():
            match = _LINE.match(line)
            assert match, line
            row, field = match.groups()
            if not field and row:  # "row 3: price 12.345: …" names its column first
                first = line[match.end() :].split(" ", 1)[0].rstrip(":")
                field = first if first in HEADER else ""
            errors.append((int(row) if row else 0, field or ("file" if not row else "")))
        return ("invalid", sorted(errors))
    match = re.search(r"(?:Created|Would create) (\d+), updated? (\d+)", out.getvalue())
    return ("ok", int(match[1]), int(match[2]))


def admin_preview(client, content: bytes, name: str):
    response = client.post(
        reverse("admin:inventory_product_import"),
        {"import_file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    return response


def import_admin(client, content: bytes, name: str, *, confirm=True):
    """Upload in the admin (preview), then confirm; the verdict of the preview or the import."""
    response = admin_preview(client, content, name)
    context = response.context
    form = context.get("form")
    if form is not None and form.errors:  # refused before parsing (e.g. too large)
        return ("invalid", [(0, "file")])
    if context.get("errors"):
        page = response.content.decode()
        assert 'class="import-errors"' in page
        return ("invalid", sorted((e["row"] or 0, e["field"] or "") for e in context["errors"]))
    result = context["result"]
    preview = ("ok", result.created, result.updated)
    assert result.summary() in response.content.decode()
    if not confirm:
        return preview
    token = context["confirm_form"].initial["token"]
    done = client.post(reverse("admin:inventory_product_import"), {"token": token})
    assert done.status_code == 302, done.content
    batch = ImportBatch.objects.first()
    assert batch.source == ImportBatch.Source.ADMIN
    return ("ok", batch.created_count, batch.updated_count)
