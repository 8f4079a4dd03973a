import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from analytics.tests.factories import CategoryFactory, ProductFactory, executed_order

pytestmark = pytest.mark.django_db
DASHBOARD = "admin:analytics_salesdashboard_changelist"
CSV = "admin:analytics_salesdashboard_csv"


@pytest.fixture
def shop_sales():
    tools = CategoryFactory(name="Tools")
    hammer = ProductFactory(name="Hammer", category=tools, quantity=3)
    saw = ProductFactory(name="=Saw", category=tools, quantity=50)
    glue = ProductFactory(name="Glue", category=CategoryFactory(name="Craft"), quantity=0)
    now = timezone.now()
    executed_order([(hammer, 2, "15.00", "9.00"), (glue, 1, "4.00", "1.00")], at=now)
    executed_order([(saw, 1, "30.00", "20.00")], at=now - timedelta(days=3))
    executed_order([(saw, 1, "30.00", "20.00")], at=now - timedelta(days=45))  # out of range
    return {"hammer": hammer, "saw": saw, "glue": glue}


def test_dashboard_renders_for_an_analyst_with_charts(client, analyst, shop_sales):
    client.force_login(analyst)

    response = client.get(reverse(DASHBOARD))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="chart"') == 3  # the admin has its own icon <svg>s
    assert "Revenue and profit per day" in html
    assert "Top 10 products by revenue" in html
    assert "Share of revenue by category" in html
    summary = response.context["summary"]
    assert (summary.revenue, summary.cost, summary.executed_orders, summary.units_sold) == (
        64,
        39,
        2,
        4,
    )
    assert "64.00" in html and "39.06 %" in html  # revenue, margin 25/64
    assert "Hammer" in html and "=Saw" in html and "Glue" in html
    assert "products.csv?date_from=" in html


def test_dashboard_is_linked_from_the_admin_index_for_analysts_only(
    client, analyst, inventory_manager
):
    url = reverse(DASHBOARD)
    client.force_login(analyst)
    assert url in client.get(reverse("admin:index")).content.decode()

    client.force_login(inventory_manager)
    assert url not in client.get(reverse("admin:index")).content.decode()


def test_dashboard_date_range_form(client, analyst, shop_sales):
    client.force_login(analyst)
    today = timezone.localdate()

    wide = client.get(
        reverse(DASHBOARD), {"date_from": today - timedelta(days=60), "date_to": today}
    )
    backwards = client.get(reverse(DASHBOARD), {"date_from": today, "date_to": "2000-01-01"})

    assert wide.context["summary"].executed_orders == 3
    assert backwards.status_code == 200
    assert "must not be after" in backwards.content.decode()
    assert backwards.context["date_from"] == today - timedelta(days=29)  # the default range


def test_dashboard_forbidden_for_other_staff(client, inventory_manager, order_manager):
    for user in (inventory_manager, order_manager):
        client.force_login(user)
        assert client.get(reverse(DASHBOARD)).status_code == 403
        assert client.get(reverse(CSV, args=["products"])).status_code == 403


def test_dashboard_csv_downloads(client, analyst, shop_sales):
    client.force_login(analyst)

    products = client.get(reverse(CSV, args=["products"]))
    categories = client.get(reverse(CSV, args=["categories"]))
    low_stock = client.get(reverse(CSV, args=["low-stock"]))
    days = client.get(reverse(CSV, args=["days"]))
    unknown = client.get(reverse(CSV, args=["passwords"]))

    assert products.status_code == 200
    assert products["Content-Type"].startswith("text/csv")
    assert "attachment" in products["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(products.content.decode())))
    assert rows[0][:5] == ["product_id", "product_name", "category_name", "units_sold", "revenue"]
    assert [r[1] for r in rows[1:]] == ["Hammer", "'=Saw", "Glue"]  # formula escaped
    assert [r[-1] for r in rows[1:]] == ["46.88", "46.87", "6.25"]  # 30, 30, 4 of 64
    category_rows = list(csv.reader(io.StringIO(categories.content.decode())))
    assert [(r[1], r[7], r[-1]) for r in category_rows[1:]] == [
        ("Tools", "Hammer", "50.00"),
        ("Tools", "'=Saw", "50.00"),
        ("Craft", "Glue", "100.00"),
    ]
    stock_rows = list(csv.reader(io.StringIO(low_stock.content.decode())))
    assert [r[2] for r in stock_rows[1:]] == ["Glue", "Hammer"]
    assert len(list(csv.reader(io.StringIO(days.content.decode())))) == 31
    assert unknown.status_code == 404


def test_dashboard_query_count_is_bounded(client, analyst, shop_sales, django_assert_num_queries):
    client.force_login(analyst)
    for product in ProductFactory.create_batch(5):
        executed_order([(product, 1, "1.00", "0.50")], at=timezone.now())

    # session, user, permissions (own, groups), five report queries (which years the summary
    # holds, the per-product sums with their category names, totals, days, low stock); on
    # PostgreSQL the per-product one runs in a savepoint with SET LOCAL work_mem (3 more)
    with django_assert_num_queries(9 + (3 if connection.vendor == "postgresql" else 0)):
        response = client.get(reverse(DASHBOARD))

    assert response.status_code == 200
