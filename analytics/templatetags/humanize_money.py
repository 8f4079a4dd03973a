from django import template

from shop.money import money as money_text

register = template.Library()


@register.filter
def money(value) -> str:
    """12345.5 -> '12,345.50' (two places, thousands separated)."""
    return money_text(value, grouped=True)
