"""Money as text, written once: the API's strings, the admin's and the reports'.

Amounts are Decimals with two places (or integer cents where a report sums many); their text
is always two places, a point and no grouping ("1234.50", "-0.75"); `grouped` adds thousands
separators for pages people read ("1,234.50").
"""

from decimal import Context, Decimal

# SQLite's cursor hands back a DECIMAL column as a float: read as Django's SQLite backend reads
# it, to 15 significant digits.
_SQLITE_DECIMAL = Context(prec=15)


def money(value: Decimal | int | float | str, *, grouped: bool = False) -> str:
    """An amount (not cents) as text with two places: "1234.50" ("1,234.50" when grouped)."""
    if isinstance(value, float):
        value = _SQLITE_DECIMAL.create_decimal_from_float(value)
    elif not isinstance(value, Decimal):
        value = Decimal(value)
    return f"{value:,.2f}" if grouped else f"{value:.2f}"


def from_cents(cents: int) -> Decimal:
    """Integer cents as a Decimal with two places (1234 -> 12.34)."""
    return Decimal(cents).scaleb(-2)


def to_cents(amount: Decimal | int | str) -> int:
    """An amount with two places as integer cents (Decimal("12.34") -> 1234)."""
    return int(Decimal(amount) * 100)


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))


def money_from_cents(cents: int) -> str:
    """Integer cents as money's text (-150 -> "-1.50"), without a Decimal: a report writes
    thousands of them."""
    if cents >= 0:
        return f"{cents // 100}.{_TWO_DIGITS[cents % 100]}"
    return "-" + money_from_cents(-cents)
