"""Strict input for the API's write serializers: unknown fields, hidden characters and times without a zone are refused.

A field the serializer does not know is most often a typing error in the sender's code
(``do_not_contakt``); dropping it silently would answer 200 and change nothing.
"""

import datetime
import re
import unicodedata
from collections.abc import Callable

from django.core.validators import MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from backoffice.kernel.api.fields import YuanField, refuse, yuan_reader

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
            refuse(self, "no_offset", value=value)
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            refuse(self, "no_offset", value=value.isoformat())
        return super().to_internal_value(value)


# Plain rows: the bulk endpoints' fast path. A thousand rows through a serializer's per-field
# machinery cost more than recording them; a row whose every value is plainly well formed is read
# here directly, to exactly what the serializer would give, and any other row sends the whole
# request through the serializer, which names each problem.

# A reader takes the text and the time zone of the request (looked up once per request, not per value).
Reader = Callable[[str, datetime.tzinfo], object]


def _char_reader(field: serializers.CharField) -> Reader | None:
    if field.validators and any(not isinstance(v, _CHAR_VALIDATORS) for v in field.validators):
        return None
    longest, shortest = field.max_length, max(field.min_length or 0, 0 if field.allow_blank else 1)

    def read(text: str, _zone: datetime.tzinfo) -> str:
        if not shortest <= len(text) <= (longest or len(text)) or text != text.strip():
            raise ValueError(text)
        return text

    return read


def _choice_reader(field: serializers.ChoiceField) -> Reader:
    choices = field.choice_strings_to_values

    def read(text: str, _zone: datetime.tzinfo) -> object:
        return choices[text]

    return read


def _datetime_reader(field: "StrictDateTimeField") -> Reader:
    fixed = getattr(field, "timezone", None)

    def read(text: str, zone: datetime.tzinfo) -> datetime.datetime:
        parsed = _WITH_OFFSET.fullmatch(text) and parse_datetime(text)
        if not parsed or parsed.tzinfo is None:
            raise ValueError(text)
        return parsed.astimezone(fixed or zone)

    return read


def _reader(field: serializers.Field) -> Reader | None:
    # Exact classes only: a subclass may check more than its parent.
    kind = type(field)
    if field.validators and kind is not serializers.CharField:
        return None
    if kind is serializers.CharField:
        return _char_reader(field)
    if kind is serializers.ChoiceField:
        return _choice_reader(field)
    if kind is StrictDateTimeField:
        return _datetime_reader(field)
    if kind is YuanField:
        return yuan_reader(field)
    return None


def _readers(serializer_class: type[StrictSerializer]) -> dict[str, tuple[Reader, bool, object]] | None:
    """Return each field's reader, whether it is required and its default; None if one has no plain reading."""
    if serializer_class in _READERS:
        return _READERS[serializer_class]
    readers: dict[str, tuple[Reader, bool, object]] | None = {}
    fields = serializer_class().fields
    own_checks = (
        serializer_class.validate is not serializers.Serializer.validate
        or serializer_class.to_internal_value is not StrictSerializer.to_internal_value
        or serializer_class.run_validation is not serializers.Serializer.run_validation
        or getattr(getattr(serializer_class, "Meta", None), "validators", None)
        or any(hasattr(serializer_class, f"validate_{name}") for name in fields)
    )
    for name, field in fields.items():
        reader = None if field.read_only or field.source != name else _reader(field)
        if reader is None or own_checks:
            readers = None
            break
        readers[name] = (reader, field.required, field.default)
    _READERS[serializer_class] = readers
    return readers


_READERS: dict[type, dict | None] = {}


def plain_rows(serializer_class: type[StrictSerializer], rows: list) -> list[dict] | None:
    """Read ``rows`` as ``serializer_class(data=rows, many=True)`` would, if every one is plainly well formed.

    Plain: an object with no field the serializer does not take and every one it requires, each
    value printable ASCII text without spaces around it, that its field reads as is. Returns the
    validated rows, equal to the serializer's; None as soon as one row is not plain (the caller then
    runs the serializer, to name every problem).
    """
    readers = _readers(serializer_class)
    if readers is None:
        return None
    names, fields = readers.keys(), list(readers.items())
    out = []
    zone = timezone.get_current_timezone()
    try:
        for row in rows:
            if type(row) is not dict or not row.keys() <= names:
                return None
            values = {}
            for name, (read, required, default) in fields:
                text = row.get(name, _MISSING)
                if text is _MISSING:
                    if required:
                        return None
                    if default is not serializers.empty:
                        values[name] = default() if callable(default) else default
                    continue
                if type(text) is not str or not text.isascii() or not text.isprintable():
                    return None
                values[name] = read(text, zone)
            out.append(values)
    except (ValueError, KeyError, OverflowError, ArithmeticError):
        return None
    return out


_MISSING = object()
_CHAR_VALIDATORS = (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)
