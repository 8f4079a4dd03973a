from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.5 -> '12,345.50' (two places, thousands separated)."""
    return f"{Decimal(value):,.2f}"
