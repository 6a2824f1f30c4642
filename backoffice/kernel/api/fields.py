"""Money in the API: yuan as decimal strings, never JSON numbers (a float cannot hold ¥0.10 exactly)."""

import re
from collections.abc import Callable
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# Plain ASCII digits only: Decimal() also reads "1e2", "NaN" and full-width "１.００".
_YUAN = re.compile(r"^-?[0-9]+(\.[0-9]{1,2})?$")
_CENT = Decimal("0.01")


def refuse(field: serializers.Field, key: str, **params: object) -> None:
    """Raise ``field``'s error ``key`` with ``params`` put in as our catalogue writes them (``%(value)r``).

    DRF's own ``fail`` fills messages with ``str.format``, which leaves ``%(value)r`` as it is.
    """
    raise serializers.ValidationError(field.error_messages[key] % params, code=key)


class YuanField(serializers.DecimalField):
    """An amount in yuan, sent and returned as a decimal string with at most two decimals."""

    default_error_messages = {
        "not_a_string": _('Send amounts as decimal strings, such as "500.00", not as numbers.'),
        "not_plain": _('Amount %(value)r must be plain digits with at most two decimals, such as "500.00".'),
    }

    def __init__(self, **kwargs: object) -> None:
        """Up to 999,999,999,999.99 yuan, two decimals."""
        super().__init__(max_digits=14, decimal_places=2, **kwargs)

    def to_internal_value(self, data: object) -> Decimal:
        """Refuse a JSON number before reading the string."""
        if not isinstance(data, str):
            refuse(self, "not_a_string")
        if not _YUAN.fullmatch(data):
            refuse(self, "not_plain", value=data)
        return super().to_internal_value(data)


def yuan_reader(field: YuanField) -> Callable[[str, object], Decimal]:
    """Return a plain reading of ``field`` (``backoffice.kernel.api.strict.plain_rows``): what the field gives, or ValueError."""

    def read(text: str, _zone: object) -> Decimal:
        if len(text) > field.MAX_STRING_LENGTH or not _YUAN.fullmatch(text):
            raise ValueError(text)
        try:
            amount = field.validate_precision(Decimal(text))
        except serializers.ValidationError as exc:
            raise ValueError(text) from exc
        # What ``field.quantize`` gives: at most two decimals and fourteen digits (just checked) quantize exactly.
        return amount.quantize(_CENT)

    return read
