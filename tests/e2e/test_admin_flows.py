"""Staff at work in the admin, in a real browser: import, dashboard, order actions, refusals."""

import datetime
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from inventory.models import Category, ImportBatch, Product, StockMovement

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HEADER = ["sku", "name", "category", "price", "cost", "quantity"]


def xlsx(tmp_path, rows, name="products.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def product(name, *, quantity=10, category=None, price="10.00", cost="6.00"):
    """A product with stock at creation (later changes go through the services)."""
    category = category or Category.objects.get_or_create(name="Tools")[0]
    return Product.objects.create(
        sku=name.upper().replace(" ", "-"),
        name=name,
        category=category,
        price=Decimal(price),
        cost=Decimal(cost),
        quantity=quantity,
    )


def catalog_state():
    return {
        "products": sorted(Product.objects.values_list("sku", "name", "price", "quantity")),
        "categories": sorted(Category.objects.values_list("name", flat=True)),
        "movements": StockMovement.objects.count(),
        "batches": ImportBatch.objects.count(),
    }


def upload(admin_ui, page, path):
    """From the product list, open the import page and send the file to its preview."""
    admin_ui.goto("/admin/inventory/product/", "product list")
    with page.expect_navigation():
        page.click("a.import_link, a[href$='/import/']")
    page.screens.shot("import page")
    page.set_input_files("input[name=import_file]", str(path))
    return admin_ui.submit("input[type=submit][value=Preview]", "preview")


def test_admin_import_xlsx_preview_confirm_lists_new_products(
    admin_ui, page, inventory_manager, tmp_path
):
    existing = product("Claw hammer", quantity=5)
    path = xlsx(
        tmp_path,
        [
            ["CLAW-HAMMER", "Claw hammer", "Tools", "12.50", "6.00", 8],
            ["E2E-DRILL", "Cordless drill", "Power tools", "89.00", "51.20", 12],
            ["E2E-SAW", "Jigsaw", "Power tools", "64.90", "38.00", 7],
        ],
    )
    admin_ui.login(inventory_manager.email, PASSWORD)

    upload(admin_ui, page, path)

    summary = page.locator(".import-summary").inner_text()
    assert summary == (
        "Would create 2, update 1 and leave 0 unchanged (3 rows); 1 new category."
    ), summary
    assert "New category: Power tools." in page.locator("#content").inner_text()
    preview = page.locator("table.import-preview tbody tr")
    assert [preview.nth(i).locator("td").nth(2).inner_text() for i in range(3)] == [
        "CLAW-HAMMER",
        "E2E-DRILL",
        "E2E-SAW",
    ]
    assert page.locator("input[name=confirm]").is_visible()
    assert not Product.objects.filter(sku__startswith="E2E-").exists()  # nothing written yet

    admin_ui.submit("input[name=confirm]", "confirmed")

    assert page.url.split("?")[0].endswith("/admin/inventory/product/")
    message = page.locator("ul.messagelist").inner_text()
    assert "Created 2, updated 1, left 0 unchanged (3 rows); 1 new category." in message, message
    page.fill("#searchbar", "E2E-")
    admin_ui.submit("#changelist-search input[type=submit]", "new products listed")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    listed = rows.all_inner_texts()
    assert any("Cordless drill" in r for r in listed) and any("Jigsaw" in r for r in listed)
    drill = Product.objects.get(sku="E2E-DRILL")
    assert (drill.name, drill.category.name, drill.price, drill.cost, drill.quantity) == (
        "Cordless drill",
        "Power tools",
        Decimal("89.00"),
        Decimal("51.20"),
        12,
    )
    existing.refresh_from_db()
    assert (existing.price, existing.quantity) == (Decimal("12.50"), 8)
    batch = ImportBatch.objects.get()
    assert (batch.source, batch.user, batch.created_count, batch.updated_count) == (
        "admin",
        inventory_manager,
        2,
        1,
    )
    assert sorted(
        StockMovement.objects.filter(import_batch=batch).values_list("product__sku", "change")
    ) == [("CLAW-HAMMER", 3), ("E2E-DRILL", 12), ("E2E-SAW", 7)]


def test_admin_import_bad_row_shows_its_error_and_changes_nothing(
    admin_ui, page, inventory_manager, tmp_path
):
    product("Claw hammer", quantity=5)
    path = xlsx(
        tmp_path,
        [
            ["CLAW-HAMMER", "Claw hammer", "Tools", "12.50", "6.00", 8],
            ["E2E-DRILL", "Cordless drill", "Power tools", "cheap", "51.20", 12],
        ],
    )
    before = catalog_state()
    admin_ui.login(inventory_manager.email, PASSWORD)

    upload(admin_ui, page, path)

    content = page.locator("#content").inner_text()
    assert "Nothing was imported: products.xlsx has 1 problem." in content
    # The error is in a table anyone can read, print and copy: row, column, value, reason.
    rows = page.locator("table.import-errors tbody tr")
    assert rows.count() == 1
    cells = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
    assert cells == ["3", "price", "cheap", "Not a number."]  # row as the spreadsheet numbers it
    headers = page.locator("table.import-errors thead th").all_text_contents()  # CSS capitalises
    assert [h.strip() for h in headers] == ["Row", "Column", "Value found", "What is wrong"]
    assert page.locator("input[name=confirm]").count() == 0
    assert page.locator("input[name=import_file]").is_visible()  # upload the corrected file
    assert catalog_state() == before


def test_admin_analyst_dashboard_date_range_draws_charts(admin_ui, page, analyst):
    from orders import services

    customer = UserFactory()
    drill = product("Cordless drill", price="89.00", cost="51.20", quantity=20)
    saw = product(
        "Jigsaw",
        price="64.90",
        cost="38.00",
        quantity=20,
        category=Category.objects.create(name="Saws"),
    )
    for items in ([(drill, 2), (saw, 1)], [(saw, 3)]):
        order = services.order_create(
            customer=customer,
            shipping_country="FR",
            items=[services.OrderItem(product=p, quantity=q) for p, q in items],
        )
        services.order_execute(order=order, actor=customer)
    today = timezone.localdate()
    admin_ui.login(analyst.email, PASSWORD)
    admin_ui.goto("/admin/", "admin index")
    with page.expect_navigation():
        page.get_by_role("link", name="Sales dashboard").first.click()
    page.screens.shot("dashboard default range")

    page.fill("#id_date_from", (today - datetime.timedelta(days=60)).isoformat())
    page.fill("#id_date_to", (today - datetime.timedelta(days=31)).isoformat())
    admin_ui.submit("input[type=submit][value=Show]", "range without sales")

    assert "No sales in this range" in page.locator("#content").inner_text()
    assert f"date_to={(today - datetime.timedelta(days=31)).isoformat()}" in page.url

    page.fill("#id_date_from", (today - datetime.timedelta(days=6)).isoformat())
    page.fill("#id_date_to", today.isoformat())
    admin_ui.submit("input[type=submit][value=Show]", "last seven days")

    content = page.locator("#content").inner_text()
    assert "No sales in this range" not in content
    assert "437.60" in content.replace(",", "")  # revenue: 2 x 89.00 + 4 x 64.90
    charts = page.locator("#content svg")
    assert charts.count() >= 3
    for n in range(charts.count()):
        chart = charts.nth(n)
        box = chart.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
        assert chart.locator("rect, path, polyline, circle, line").count() > 2
    top_products = page.locator("#content svg").nth(1)
    assert "Cordless drill" in top_products.inner_html() or "Jigsaw" in top_products.inner_html()


def test_admin_order_manager_cancels_pending_refunds_executed_stock_returns(
    admin_ui, page, order_manager
):
    from orders import services
    from orders.models import Order

    customer = UserFactory()
    drill = product("Cordless drill", quantity=10)

    def order(quantity):
        return services.order_create(
            customer=customer,
            shipping_country="FR",
            items=[services.OrderItem(product=drill, quantity=quantity)],
        )

    pending = order(2)
    executed = services.order_execute(order=order(3), actor=customer)
    drill.refresh_from_db()
    assert drill.quantity == 7
    admin_ui.login(order_manager.email, PASSWORD)
    admin_ui.goto("/admin/orders/order/", "order list")

    page.check(f"input[name=_selected_action][value='{pending.pk}']")
    page.select_option("select[name=action]", "cancel_pending")
    admin_ui.submit("button[name=index]", "cancel confirmation")
    # Nothing has happened yet: the page lists the order and its amount.
    assert f"Order #{pending.pk}" in page.locator("#content").inner_text()
    pending.refresh_from_db()
    assert pending.status == Order.Status.PENDING
    admin_ui.submit("input[value='Yes, cancel']", "pending order cancelled")

    assert "Cancelled: 1 order(s)" in page.locator("ul.messagelist").inner_text()
    pending.refresh_from_db()
    drill.refresh_from_db()
    assert (pending.status, drill.quantity) == (Order.Status.CANCELLED, 7)

    # The refund from the order's own page, through its confirmation.
    admin_ui.goto(f"/admin/orders/order/{executed.pk}/change/", "executed order")
    assert page.locator("h1").inner_text() == f"Order #{executed.pk}"
    admin_ui.submit("a.shop-state-button", "refund confirmation")
    assert "30.00" in page.locator(".shop-confirm-orders").inner_text()
    executed.refresh_from_db()
    assert executed.status == Order.Status.EXECUTED
    admin_ui.submit("input[value='Yes, refund and restock']", "executed order refunded")

    assert "Refunded and restocked: 1 order(s)" in page.locator("ul.messagelist").inner_text()
    executed.refresh_from_db()
    drill.refresh_from_db()
    assert (executed.status, drill.quantity) == (Order.Status.REFUNDED, 10)
    refund = StockMovement.objects.get(product=drill, reason="refund")
    assert (refund.change, refund.quantity_after, refund.order_id) == (3, 10, executed.pk)
    admin_ui.goto(f"/admin/orders/order/{executed.pk}/change/", "refunded order")
    assert "Refunded" in page.locator("#content").inner_text()


def test_admin_analyst_cannot_open_product_import(admin_ui, page, analyst):
    admin_ui.login(analyst.email, PASSWORD)

    response = admin_ui.goto("/admin/inventory/product/import/", "import refused")

    assert response.status == 403
    assert page.locator("input[name=import_file]").count() == 0
    assert admin_ui.goto("/admin/inventory/product/", "product list refused").status == 403
