"""The dashboard reads right: axes end near the data, an empty range has whole ticks, and a
cut list says how much is left out."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.charts import bar_chart, line_chart, nice_ticks
from analytics.tests.factories import CategoryFactory, ProductFactory

DASHBOARD = "admin:analytics_salesdashboard_changelist"


@pytest.mark.parametrize(
    ("high", "count", "top"),
    [(2061, 4, 2500), (2061, 5, 2500), (120, 5, 120), (999, 5, 1000), (5400, 4, 6000)],
)
def test_axis_ends_at_a_round_value_near_the_maximum(high, count, top):
    ticks = nice_ticks(0, high, count)

    assert ticks[0] == 0 and ticks[-1] == top
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1  # evenly spaced


@pytest.mark.parametrize("high", [0, 0.4, 1])
def test_empty_or_tiny_range_has_no_fractional_ticks(high):
    assert nice_ticks(0, high) == [0, 1]


def test_negative_values_stay_inside_the_axis():
    ticks = nice_ticks(-340, 2061)

    assert ticks[0] <= -340 < 0 < 2061 <= ticks[-1]
    assert 0 in ticks


def _tick_labels(svg: str, anchor: str) -> list[str]:
    return re.findall(rf'text-anchor="{anchor}"[^>]*>([^<]+)</text>', svg)


def test_charts_of_an_empty_range_label_whole_numbers():
    line = line_chart(labels=["Jan 01", "Jan 02"], series=[("Revenue", [0, 0])], title="t")
    bar = bar_chart(items=[], title="t")

    assert _tick_labels(str(line), "end") == ["0", "1"]
    assert _tick_labels(str(bar), "middle") == ["No sales"]  # no empty axis at all


def test_bar_chart_axis_ends_near_its_longest_bar():
    bar = bar_chart(items=[("Hammer", Decimal("2061.00")), ("Saw", Decimal("900.00"))], title="t")

    assert _tick_labels(str(bar), "middle")[-1] == "2.5k"


@pytest.mark.django_db
def test_low_on_stock_says_how_many_more_when_cut(client, analyst):
    category = CategoryFactory()
    for n in range(23):
        ProductFactory(category=category, quantity=n % 3, name=f"Low {n}")
    client.force_login(analyst)

    html = client.get(reverse(DASHBOARD)).content.decode()

    assert "and 3 more products (in the CSV)" in html


@pytest.mark.django_db
def test_low_on_stock_says_nothing_more_when_complete(client, analyst):
    ProductFactory(category=CategoryFactory(), quantity=1)
    client.force_login(analyst)

    html = client.get(reverse(DASHBOARD)).content.decode()

    assert "more product" not in html.split("Low on stock")[1]
