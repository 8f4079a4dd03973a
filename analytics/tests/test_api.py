from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse

from analytics.models import ProductSalesSummary
from analytics.tests.factories import CategoryFactory, ProductFactory, executed_order
from orders.models import Order

pytestmark = pytest.mark.django_db
URLS = ["analytics-profit", "analytics-product-sales", "analytics-category-sales"]
DAY = date(2026, 3, 15)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def sales():
    """Two categories, three products, two executed orders, one refunded, one pending."""
    drinks, food = CategoryFactory(name="Drinks"), CategoryFactory(name="Food")
    tea = ProductFactory(name="Tea", category=drinks)
    coffee = ProductFactory(name="Coffee", category=drinks)
    bread = ProductFactory(name="Bread", category=food)
    executed_order([(tea, 2, "3.00", "1.00"), (bread, 1, "4.00", "3.50")], at=at(DAY))
    executed_order([(coffee, 1, "6.00", "2.00")], at=at(DAY + timedelta(days=1)))
    executed_order([(tea, 10, "3.00", "1.00")], at=at(DAY), status=Order.Status.REFUNDED)
    executed_order([(bread, 10, "4.00", "3.50")], at=at(DAY), status=Order.Status.PENDING)
    return {"tea": tea, "coffee": coffee, "bread": bread, "drinks": drinks, "food": food}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),
        ("customer", 403),
        ("inventory_manager", 403),
        ("order_manager", 403),
        ("analyst", 200),
        ("superuser", 200),
    ],
)
def test_reports_permissions(request, client_for, who, status):
    client = client_for(request.getfixturevalue(who) if who else None)

    statuses = [client.get(reverse(url)).status_code for url in URLS]

    assert statuses == [status] * len(URLS)


def test_profit_report_figures(client_for, analyst, sales):
    response = client_for(analyst).get(reverse("analytics-profit"))

    assert response.status_code == 200
    # revenue 2×3 + 4 + 6 = 16; cost 2×1 + 3.50 + 2 = 7.50
    assert response.json() == {
        "revenue": "16.00",
        "cost": "7.50",
        "profit": "8.50",
        "executed_orders": 2,
        "units_sold": 4,
    }


def test_product_sales_report_figures_and_limit(client_for, analyst, sales):
    client = client_for(analyst)

    response = client.get(reverse("analytics-product-sales"))
    limited = client.get(reverse("analytics-product-sales"), {"limit": 1})

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "product_id": sales["tea"].pk,
                "product_name": "Tea",
                "units_sold": 2,
                "revenue": "6.00",
                "percent_of_units": "50.00",
                "percent_of_revenue": "37.50",
            },
            {
                "product_id": sales["coffee"].pk,
                "product_name": "Coffee",
                "units_sold": 1,
                "revenue": "6.00",
                "percent_of_units": "25.00",
                "percent_of_revenue": "37.50",
            },
            {
                "product_id": sales["bread"].pk,
                "product_name": "Bread",
                "units_sold": 1,
                "revenue": "4.00",
                "percent_of_units": "25.00",
                "percent_of_revenue": "25.00",
            },
        ]
    }
    assert limited.json()["results"] == response.json()["results"][:1]


def test_category_sales_report_figures(client_for, analyst, sales):
    response = client_for(analyst).get(
        reverse("analytics-category-sales"), {"date_from": DAY, "date_to": DAY}
    )

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "category_id": sales["drinks"].pk,
                "category_name": "Drinks",
                "units_sold": 2,
                "revenue": "6.00",
                "profit": "4.00",
                "percent_of_revenue": "60.00",
                "products": [
                    {
                        "product_id": sales["tea"].pk,
                        "product_name": "Tea",
                        "units_sold": 2,
                        "revenue": "6.00",
                        "percent_of_category": "100.00",
                    }
                ],
            },
            {
                "category_id": sales["food"].pk,
                "category_name": "Food",
                "units_sold": 1,
                "revenue": "4.00",
                "profit": "0.50",
                "percent_of_revenue": "40.00",
                "products": [
                    {
                        "product_id": sales["bread"].pk,
                        "product_name": "Bread",
                        "units_sold": 1,
                        "revenue": "4.00",
                        "percent_of_category": "100.00",
                    }
                ],
            },
        ]
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"date_from": "2026-03-01T10:00:00"}, "date_from"),
    ],
)
def test_reports_bad_dates_give_400(client_for, analyst, params, field):
    client = client_for(analyst)

    responses = [client.get(reverse(url), params) for url in URLS]

    assert [r.status_code for r in responses] == [400] * len(URLS)
    assert all(list(r.json()) == [field] for r in responses)


def test_product_sales_bad_limit_gives_400(client_for, analyst):
    client = client_for(analyst)

    responses = [
        client.get(reverse("analytics-product-sales"), {"limit": limit})
        for limit in ("0", "-1", "many")
    ]

    assert [r.status_code for r in responses] == [400] * 3
    assert all("limit" in r.json() for r in responses)


def test_reports_empty_range_gives_zeros(client_for, analyst, sales):
    client = client_for(analyst)
    params = {"date_from": "2020-01-01", "date_to": "2020-01-31"}

    profit = client.get(reverse("analytics-profit"), params)
    products = client.get(reverse("analytics-product-sales"), params)
    categories = client.get(reverse("analytics-category-sales"), params)

    assert profit.json() == {
        "revenue": "0.00",
        "cost": "0.00",
        "profit": "0.00",
        "executed_orders": 0,
        "units_sold": 0,
    }
    assert products.json() == {"results": []}
    assert categories.json() == {"results": []}


@pytest.mark.parametrize("url", URLS)
def test_reports_query_count_does_not_grow_with_products(
    client_for, analyst, sales, django_assert_num_queries, url
):
    client = client_for(analyst)
    for product in ProductFactory.create_batch(5, category=sales["food"]):
        executed_order([(product, 1, "1.00", "0.50")], at=at(DAY))
    assert ProductSalesSummary.objects.filter(period="day").count() == 8

    # The user (JWT), their own and their groups' permissions, then one report query; the
    # per-product reports first read which years the summary holds, and on PostgreSQL run
    # inside a savepoint with SET LOCAL work_mem (3 more statements); category sales then
    # reads the names of its categories.
    per_product = url != "analytics-profit"
    extra = (1 + (3 if connection.vendor == "postgresql" else 0)) if per_product else 0
    extra += url == "analytics-category-sales"
    with django_assert_num_queries(4 + extra):
        response = client.get(reverse(url), {"date_from": "2026-03-01", "date_to": "2026-03-31"})

    assert response.status_code == 200


@pytest.mark.parametrize("url", URLS)
def test_reports_over_the_widest_dates_equal_the_open_range(client_for, analyst, sales, url):
    """Bounds far beyond the sales are brought in to the years the summary holds: the same
    answer as no bounds, not a walk over eight thousand years."""
    client = client_for(analyst)

    widest = client.get(reverse(url), {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    open_range = client.get(reverse(url))

    assert widest.status_code == open_range.status_code == 200
    assert widest.json() == open_range.json()
    body = widest.json()
    if url == "analytics-profit":
        assert body["units_sold"] == 4
    else:  # three products in two categories
        assert len(body["results"]) == (3 if url == "analytics-product-sales" else 2)
