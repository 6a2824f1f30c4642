"""Strict input for the API's write serializers: unknown fields, hidden characters and times without a zone are refused.

A field the serializer does not know is most often a typing error in the sender's code
(``do_not_contakt``); dropping it silently would answer 200 and change nothing.
"""

import datetime
import re
import unicodedata

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# Ordinary whitespace is text; every other control or format character (bidirectional
# overrides, zero-width joiners, NUL) can disguise a name or a reference on screen and on paper.
_ORDINARY_WHITESPACE = frozenset("\t\n\r")
_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$", re.ASCII)


def hidden_character(value: str) -> str | None:
    """Return the first control or format character (Unicode Cc or Cf) of ``value``, bar ordinary whitespace."""
    for character in value:
        if character not in _ORDINARY_WHITESPACE and unicodedata.category(character) in ("Cc", "Cf"):
            return character
    return None


class StrictSerializer(serializers.Serializer):
    """Refuse fields the serializer does not declare (or declares read-only), naming each, and hidden characters."""

    default_error_messages = {
        "unknown_field": _("Unknown field %(field)r: it is not one this endpoint takes."),
        "hidden_character": _("Text %(value)r holds the invisible character U+%(code)04X."),
    }

    def to_internal_value(self, data: object) -> dict:
        """Check the keys and the text sent, then read the fields as usual."""
        if isinstance(data, dict):
            errors = self._unknown_fields(data) | self._hidden_characters(data)
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def _unknown_fields(self, data: dict) -> dict:
        writable = {name for name, field in self.fields.items() if not field.read_only}
        return {
            str(key): [serializers.ErrorDetail(self.error_messages["unknown_field"] % {"field": key}, code="unknown")]
            for key in data
            if key not in writable
        }

    def _hidden_characters(self, data: dict) -> dict:
        errors = {}
        for name, value in data.items():
            character = hidden_character(value) if isinstance(value, str) else None
            if character is not None:
                message = self.error_messages["hidden_character"] % {"value": value, "code": ord(character)}
                errors[str(name)] = [serializers.ErrorDetail(message, code="hidden_character")]
        return errors


class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time with its offset (``+08:00`` or ``Z``): a bare date or a local time is refused."""

    default_error_messages = {
        "no_offset": _("Send %(value)r as a date and time with its offset, such as 2026-03-02T14:30:00+08:00."),
    }

    def to_internal_value(self, value: object) -> datetime.datetime:
        """Refuse text without a time and an offset before reading it."""
        if isinstance(value, str) and not _WITH_OFFSET.fullmatch(value):
            self.fail("no_offset", value=value)
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            self.fail("no_offset", value=value.isoformat())
        return super().to_internal_value(value)
