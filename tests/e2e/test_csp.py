"""Content-Security-Policy (issue 17, finding 17): the admin and the Swagger UI work under it.

The `page` fixture fails any browser test whose pages the policy blocked something on; these
tests open the pages the policy matters most for."""

import pytest

from accounts.tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_swagger_ui_renders_under_the_policy(page, live_server):
    response = page.goto(live_server.url + "/api/v1/docs/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").wait_for()
    assert "shop API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10  # the operations, read from the schema
    page.locator(".opblock").first.click()  # Swagger's own script reacts
    page.locator(".opblock-body").first.wait_for()
    assert page.csp_violations == []


def test_admin_pages_run_under_the_policy(admin_ui, page, superuser):
    admin_ui.login(superuser.email, PASSWORD)
    for path in [
        "/admin/",
        "/admin/inventory/product/",
        "/admin/inventory/product/add/",
        "/admin/orders/order/",
        "/admin/analytics/salesdashboard/",
    ]:
        response = admin_ui.goto(path, path.strip("/").replace("/", "-"))
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]

    assert page.locator("svg.chart").count() > 0  # the dashboard's inline SVG is drawn
    assert page.csp_violations == []


def test_an_inline_script_would_be_reported(page, live_server):
    """The check can fail: a script injected inline is blocked and reported."""
    page.goto(live_server.url + "/admin/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = 1'; document.body.appendChild(s); }"
    )

    assert page.evaluate("() => window.ran") is None
    page.wait_for_timeout(200)
    assert page.csp_violations
    page.csp_violations.clear()
