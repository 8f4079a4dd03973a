from decimal import Decimal

from analytics import charts


def test_bar_chart_escapes_labels_and_prints_values():
    svg = charts.bar_chart(
        items=[("<script>alert(1)</script>", Decimal("1234.50")), ("Tea & co", Decimal("3"))],
        title="Top",
    )

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "Tea &amp; co" in svg
    assert "1,234.50" in svg and svg.count("<rect") == 2


def test_line_chart_one_day_and_negative_profit_has_a_zero_axis():
    svg = charts.line_chart(
        labels=["Mar 01"], series=[("Revenue", [Decimal(5)]), ("Profit", [Decimal(-2)])], title="T"
    )

    assert svg.count("<polyline") == 2
    assert ">0</text>" in svg and ">-2</text>" in svg
    assert 'role="img"' in svg and "<title>T</title>" in svg


def test_donut_chart_groups_the_rest_as_other():
    items = [(f"C{i}", Decimal("10.00")) for i in range(10)]

    svg = charts.donut_chart(items=items, title="Share", slices=8)

    assert svg.count("<path") == 9
    assert "Other — 20.00%" in svg and charts.OTHER in svg


def test_donut_chart_single_category_is_a_full_ring():
    svg = charts.donut_chart(items=[("Only", Decimal("100.00"))], title="Share")

    assert "<circle" in svg and "Only — 100.00%" in svg


def test_nice_ticks_cover_the_range_from_zero():
    ticks = charts.nice_ticks(0, 1234)

    assert ticks[0] == 0 and ticks[-1] >= 1234
    assert len(ticks) <= 7
