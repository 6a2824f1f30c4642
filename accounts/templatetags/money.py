"""Template filters for money kept in fen."""

from django import template

from backoffice.kernel.money import format_yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Show an amount in fen as yuan (``¥1,234.50``); empty for none."""
    return "" if fen is None else format_yuan(fen)
