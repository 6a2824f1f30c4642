"""What a cell of a ledger file may say: text, amounts of yuan, dates, times, yes/no, a choice.

Each parser takes the cell's stripped text and returns the value, or raises ``ValueError`` whose
message says what is wrong (the caller names the row, the column and the value).
"""

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.kernel.money import FEN_PER_YUAN
from backoffice.kernel.tabular import choice_names, control_character, parse_yes_no

Parser = Callable[[str], object]
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


def text(max_length: int | None = None, *, required: bool = False) -> Parser:
    """Return a parser of free text, kept exactly as written (a leading ``=`` too)."""

    def parse(value: str) -> str:
        if required and not value:
            raise ValueError(_("a value is required."))
        if (character := control_character(value)) is not None:
            # PostgreSQL refuses NUL in text; the other controls are no one's typing either.
            raise ValueError(_("holds a control character (%(character)r); remove it.") % {"character": character})
        if max_length is not None and len(value) > max_length:
            raise ValueError(_("longer than %(max)d characters.") % {"max": max_length})
        return value

    return parse


def fen(*, positive: bool = False) -> Parser:
    """Return a parser of an amount of yuan (``1234.56``, at most two decimals) into integer fen."""

    def parse(value: str) -> int:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValueError(_("not an amount of yuan such as 1234.56.")) from None
        if not amount.is_finite():
            raise ValueError(_("not an amount of yuan such as 1234.56."))
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(_("more than two decimal places."))
        if positive and amount <= 0:
            raise ValueError(_("must be greater than zero."))
        if amount < 0:
            raise ValueError(_("must not be negative."))
        return int(amount * FEN_PER_YUAN)

    return parse


def date(value: str) -> datetime.date:
    """Parse ``2026-03-01`` or ``2026/3/1`` (what Chinese Excel writes)."""
    for layout in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, layout).date()
        except ValueError:
            continue
    raise ValueError(_("not a date such as 2026-03-01."))


def moment(value: str) -> datetime.datetime:
    """Parse an ISO 8601 date and time; without an offset it is in the project's time zone (Beijing time)."""
    if len(value) <= len("2026-03-01"):  # no room for a time of day: a date alone is refused, not read as midnight
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            raise ValueError(_("a time of day is needed, not only a date."))
    when = None
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        for layout in _TIME_FORMATS:
            try:
                when = datetime.datetime.strptime(value, layout)
                break
            except ValueError:
                continue
    if when is None:
        raise ValueError(_("not a date and time such as 2026-03-02T14:30:00+08:00."))
    return when if when.tzinfo else timezone.make_aware(when, timezone.get_default_timezone())


def yes_no(value: str) -> bool:
    """Parse yes/no, true/false, 1/0, 是/否; empty is no."""
    return parse_yes_no(value)


def choice(choices: type[models.TextChoices]) -> Parser:
    """Return a parser of a stored value or its label in English or Chinese, any case."""
    names = choice_names(choices)

    def parse(value: str) -> str:
        try:
            return names[value.lower()]
        except KeyError:
            raise ValueError(
                _("unknown; expected one of %(values)s.") % {"values": ", ".join(choices.values)}
            ) from None

    return parse
