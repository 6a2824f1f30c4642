"""The API's one parser: JSON, read up to the request ceiling, refusing what no field may hold.

DRF's own JSON parser lets a deeply nested body raise ``RecursionError`` (a server error) and
accepts escaped lone surrogates (``"\\ud800"``), strings that cannot be encoded as UTF-8 and so
fail later, when the answer or a stored row is written.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json


class Refused(exceptions.APIException):
    """A refusal whose error rows are already built (by a parser, before any view runs)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, errors: list[dict], status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        super().__init__(errors[0]["message"] if errors else None)
        self.errors = errors
        self.status_code = status_code


class RequestTooLarge(exceptions.APIException):
    """The body is bigger than ``API_MAX_REQUEST_BYTES``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def request_too_large() -> RequestTooLarge:
    """Return the error of a body over the ceiling, naming the ceiling."""
    limit = settings.API_MAX_REQUEST_BYTES
    return RequestTooLarge(_("A request body takes at most %(max)d bytes: split the request.") % {"max": limit})


# An escaped surrogate (``\ud800`` to ``\udfff``); a body without one cannot hold a lone surrogate.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _lone_surrogates(value: object, path: tuple = ()) -> list[tuple[tuple, str]]:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [(path, value)]
        return []
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _lone_surrogates(item, (*path, index))]
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in _lone_surrogates(key, (*path, key)) + _lone_surrogates(item, (*path, key))
        ]
    return []


def _escaped(text: object) -> str:
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def _surrogate_error(path: tuple, value: str, bulk: bool) -> dict:
    index = path[0] if bulk and path and isinstance(path[0], int) else None
    names = path[1:] if index is not None else path
    field = ".".join(_escaped(name) for name in names) or None
    message = _("The text %(value)s holds a lone surrogate, which no UTF-8 text can carry.") % {
        "value": _escaped(value)
    }
    return {"index": index, "field": field, "value": _escaped(value), "code": "invalid", "message": message}


class StrictJSONParser(JSONParser):
    """JSON up to ``API_MAX_REQUEST_BYTES``; too deep a nesting is a parse error, a lone surrogate a field error."""

    def parse(self, stream: object, media_type: str | None = None, parser_context: dict | None = None) -> object:
        """Return the parsed body, or raise the error naming what is wrong with it."""
        limit = settings.API_MAX_REQUEST_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise request_too_large()
        encoding = get_encoding(parser_context or {})
        try:
            data = json.loads(raw.decode(encoding), parse_constant=json.strict_constant if self.strict else None)
        except (ValueError, LookupError) as exc:
            raise exceptions.ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        except RecursionError:
            raise exceptions.ParseError(_("JSON parse error - the body is nested too deeply.")) from None
        if _ESCAPED_SURROGATE.search(raw):
            try:
                found = _lone_surrogates(data)
            except RecursionError:
                raise exceptions.ParseError(_("JSON parse error - the body is nested too deeply.")) from None
            if found:
                raise Refused([_surrogate_error(path, value, isinstance(data, list)) for path, value in found])
        return data
