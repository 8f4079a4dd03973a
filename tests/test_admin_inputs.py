"""Admin screens: inputs that used to be 500s (issue 17, findings 10 and 11)."""

import pytest
from django.test import Client

from accounts.tests.factories import StaffFactory, UserFactory
from orders.tests.factories import order_make

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/analytics/salesdashboard/"


def logged_in(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("q", ["²", "٣", "#²", "99999999999999999999999999", "12"])
def test_admin_order_search_odd_numbers_is_no_500(q):
    order = order_make()
    client = logged_in(StaffFactory(role="orders"))

    response = client.get("/admin/orders/order/", {"q": q})

    assert response.status_code == 200
    if q == str(order.pk):
        assert f"/admin/orders/order/{order.pk}/change/" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "9999-12-01", "date_to": "9999-12-31"},
        {"date_from": "0001-01-01", "date_to": "0001-01-31"},
        {"date_from": "9999-12-31"},
    ],
)
def test_admin_dashboard_extreme_dates_is_no_500(params):
    client = logged_in(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(DASHBOARD, params)

    assert response.status_code == 200, response.content[:2000]


@pytest.mark.parametrize(
    "params",
    [{"date_to": "9999-12-31"}, {"date_from": "9999-12-01", "date_to": "9999-12-31"}],
)
def test_admin_dashboard_days_csv_extreme_dates_is_no_500(params):
    client = logged_in(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(DASHBOARD + "days.csv", params)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
