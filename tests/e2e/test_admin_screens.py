"""Every screen of every role, on the demo data, at a laptop's and a desktop's width.

Each page is photographed (test-artifacts/screenshots/<test>/), answers 200 (or the 403 page
where a role has no access), and no list scrolls sideways: the page's content fits the window.
"""

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_ADMIN, DEMO_PASSWORD, DEMO_STAFF
from inventory.models import Category, Product, StockMovement
from orders.models import Order, Payment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

VIEWPORTS = {"laptop": (1366, 900), "desktop": (1920, 1080)}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def screen(request, browser, live_server, screens_dir):
    from tests.e2e.conftest import AdminUI, checked_page

    viewport = VIEWPORTS[request.param]
    with checked_page(browser, live_server, screens_dir, request, viewport) as page:
        yield AdminUI(page, live_server.url, page.screens)


def visit(ui, path: str, step: str, *, status: int = 200) -> None:
    response = ui.goto(path, step)
    assert response.status == status, f"{path}: {response.status}"
    overflow = ui.page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert overflow[0] <= overflow[1], f"{path} scrolls sideways: {overflow}"
    # A changelist's table sits in a box that would scroll on its own: it must fit too.
    clipped = ui.page.evaluate(
        "() => [...document.querySelectorAll('#changelist .results, .inline-group .tabular')]"
        ".filter(e => e.scrollWidth > e.clientWidth).map(e => [e.scrollWidth, e.clientWidth])"
    )
    if clipped:
        widths = ui.page.evaluate(
            "() => [...document.querySelectorAll('#result_list thead th, .tabular thead th')]"
            ".map(th => [th.innerText.trim(), Math.round(th.getBoundingClientRect().width)])"
        )
        pytest.fail(f"{path}: a table scrolls sideways inside the page: {clipped} {widths}")


def forbidden(ui, path: str, step: str) -> None:
    visit(ui, path, step, status=403)
    assert ui.page.locator("#site-name").inner_text() == "Shop back office"
    assert ui.page.locator("a", has_text="Back to the back office").is_visible()


def test_screens_inventory_manager(screen, demo):
    ui = screen
    ui.login(DEMO_STAFF["inventory"], DEMO_PASSWORD)
    product = Product.objects.order_by("pk").first()
    movement = StockMovement.objects.filter(order_id__isnull=False).first()

    visit(ui, "/admin/", "index")
    visit(ui, "/admin/inventory/category/", "categories")
    visit(ui, f"/admin/inventory/category/{Category.objects.first().pk}/change/", "category")
    visit(ui, "/admin/inventory/product/", "products")
    visit(ui, "/admin/inventory/product/?stock=low", "products low on stock")
    visit(ui, f"/admin/inventory/product/{product.pk}/change/", "product")
    visit(ui, "/admin/inventory/product/add/", "product add")
    visit(ui, "/admin/inventory/stockmovement/", "stock ledger")
    visit(ui, f"/admin/inventory/stockmovement/{movement.pk}/change/", "movement of an order")
    # The movement's order and user are not this role's screens: plain text, not links.
    assert ui.page.locator("a[href*='/admin/orders/']").count() == 0
    assert ui.page.locator("a[href*='/admin/accounts/']").count() == 0
    visit(ui, "/admin/inventory/importbatch/", "import batches")
    visit(ui, "/admin/inventory/importjob/", "import jobs")
    visit(ui, "/admin/inventory/productchange/", "catalog changes")
    visit(ui, "/admin/inventory/product/import/", "import")
    visit(ui, "/admin/inventory/product/export/", "export")
    forbidden(ui, "/admin/orders/order/", "orders refused")


def test_screens_order_manager(screen, demo):
    ui = screen
    ui.login(DEMO_STAFF["orders"], DEMO_PASSWORD)
    executed = Order.objects.filter(status=Order.Status.EXECUTED).first()
    pending = Order.objects.filter(status=Order.Status.PENDING).first()

    visit(ui, "/admin/", "index")
    visit(ui, "/admin/orders/order/", "orders")
    visit(ui, "/admin/orders/order/?money=unfinished", "orders with unfinished payments")
    visit(ui, f"/admin/orders/order/{executed.pk}/change/", "executed order")
    assert ui.page.locator("h1").inner_text() == f"Order #{executed.pk}"
    # A line's product is not this role's screen: plain text.
    assert ui.page.locator("a[href*='/admin/inventory/']").count() == 0
    visit(ui, f"/admin/orders/order/{pending.pk}/change/", "pending order")
    visit(ui, f"/admin/orders/order/{executed.pk}/refund/", "refund confirmation")
    visit(ui, f"/admin/orders/order/{pending.pk}/cancel/", "cancel confirmation")
    visit(ui, "/admin/orders/payment/", "payment attempts")
    visit(ui, f"/admin/orders/payment/{Payment.objects.first().pk}/change/", "payment attempt")
    visit(ui, "/admin/accounts/customer/", "customers")
    visit(ui, f"/admin/accounts/customer/{executed.customer_id}/change/", "customer")
    assert "pbkdf2" not in ui.page.content() and "md5" not in ui.page.content()
    forbidden(ui, "/admin/inventory/product/", "products refused")


def test_screens_analyst(screen, demo):
    ui = screen
    ui.login(DEMO_STAFF["analytics"], DEMO_PASSWORD)

    visit(ui, "/admin/", "index")
    visit(ui, "/admin/analytics/salesdashboard/", "dashboard")
    visit(
        ui,
        "/admin/analytics/salesdashboard/?date_from=2001-01-01&date_to=2001-01-31",
        "dashboard empty range",
    )
    forbidden(ui, "/admin/orders/order/", "orders refused")


def test_screens_superuser(screen, demo):
    """Every registered admin's list and first object, plus the pages of its own."""
    from django.contrib import admin
    from django.test import RequestFactory

    from accounts.models import User

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(email=DEMO_ADMIN)
    ui = screen
    ui.login(DEMO_ADMIN, DEMO_PASSWORD)
    visit(ui, "/admin/", "index")
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    ):
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        visit(ui, base, f"{opts.label} list")
        if opts.model_name == "salesdashboard":
            continue  # a page, not a table
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            visit(ui, f"{base}{first.pk}/change/", f"{opts.label} page")
    refunded = Order.objects.filter(status=Order.Status.REFUNDED).first()
    visit(ui, f"/admin/orders/order/{refunded.pk}/change/", "refunded order")
    visit(ui, "/", "start page")
