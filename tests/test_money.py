from decimal import Decimal

from shop.money import from_cents, money, money_from_cents, to_cents


def test_money_two_places_from_any_number():
    assert [money(v) for v in (Decimal("12.5"), 3, "0.1", 19.9, Decimal("-0.75"))] == [
        "12.50",
        "3.00",
        "0.10",
        "19.90",
        "-0.75",
    ]
    assert money(Decimal("1234567.8"), grouped=True) == "1,234,567.80"


def test_money_from_cents():
    assert [money_from_cents(v) for v in (0, 5, 99, 100, 123456, -5, -150)] == [
        "0.00",
        "0.05",
        "0.99",
        "1.00",
        "1234.56",
        "-0.05",
        "-1.50",
    ]
    assert [money(from_cents(v)) for v in (123456, -150)] == ["1234.56", "-1.50"]


def test_to_cents_and_back():
    amounts = [Decimal("0.00"), Decimal("0.05"), Decimal("1234.56"), Decimal("-1.50"), 3, "19.99"]
    assert [to_cents(v) for v in amounts] == [0, 5, 123456, -150, 300, 1999]
    assert from_cents(to_cents(Decimal("99999999.99"))) == Decimal("99999999.99")
