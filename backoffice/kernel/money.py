"""Money: integer fen inside, ``Decimal`` yuan at the edges, never float."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FEN_PER_YUAN = 100
_CENT = Decimal("0.01")


def yuan_to_fen(value: Decimal | str | int, *, field: str = "amount") -> int:
    """Convert a yuan amount to fen, refusing floats and fractions of a fen.

    The error is keyed by ``field`` and quotes the value, so the caller can show it as is.
    """
    if isinstance(value, float | bool):
        raise ValidationError(
            {field: _('%(value)r is not an exact amount: send a decimal string such as "12.34".') % {"value": value}}
        )
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field: _("%(value)r is not an amount of money.") % {"value": value}}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("%(value)r is not an amount of money.") % {"value": value}})
    if amount != amount.quantize(_CENT):
        raise ValidationError({field: _("%(value)s has more than two decimal places.") % {"value": value}})
    return int(amount * FEN_PER_YUAN)


def fen_to_yuan(fen: int) -> Decimal:
    """Return fen as a two-decimal ``Decimal`` of yuan."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_CENT)


def format_yuan(fen: int | None) -> str:
    """Format fen for people: ``¥1,234.56``."""
    if fen is None:
        return "—"
    return f"¥{fen_to_yuan(fen):,.2f}"
