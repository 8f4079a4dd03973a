"""Who can get into the admin, seen from a real browser."""

import pytest

from accounts.tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_admin_login_staff_reaches_index(admin_ui, page, inventory_manager):
    admin_ui.login(inventory_manager.email, PASSWORD)

    assert page.url.endswith("/admin/")
    assert page.locator("#user-tools").is_visible()
    welcome = page.locator("#user-tools").inner_text().lower()
    assert inventory_manager.full_name.lower() in welcome
    assert "log out" in welcome


def test_admin_login_customer_refused(admin_ui, page, customer):
    admin_ui.login(customer.email, PASSWORD)

    assert "/admin/login/" in page.url
    assert "staff account" in page.locator(".errornote").inner_text()
    response = admin_ui.goto("/admin/", "admin index refused")
    assert response.status == 200  # the login page again, after a redirect
    assert "/admin/login/" in page.url
    assert page.locator("#user-tools").count() == 0
    customer.refresh_from_db()
    assert customer.last_login is None
