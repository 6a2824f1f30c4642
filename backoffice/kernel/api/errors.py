"""One error format for every endpoint: ``{"errors": [{"index", "field", "value", "code", "message"}]}``.

``index`` is the row of a bulk request (None for a single object); ``value`` is what was sent for
the field (in the body, or in the query string of a read), so that the lender's system can find the
bad row without searching. What is echoed is cut to ``ECHO_MAX`` characters, and personal numbers are
masked for callers who may not see them (``errors_cleaned``, applied as the answer is rendered).
"""

import json
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

ECHO_MAX = 200
MESSAGE_MAX = 500
# Fields that hold a personal number (ID card, mobile or any phone number), by their name.
_PERSONAL_NUMBER = re.compile(r"national_id|mobile|phone")


class Refused(exceptions.APIException):
    """A refusal whose error rows are already built (by a parser, before any view runs)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, errors: list[dict], status_code: int = status.HTTP_400_BAD_REQUEST) -> None:
        super().__init__(errors[0]["message"] if errors else None)
        self.errors = errors
        self.status_code = status_code


def _sent(data: object, index: int | None, field: str | None) -> object:
    row = data[index] if index is not None and isinstance(data, list) and index < len(data) else data
    if field and isinstance(row, dict):
        return row.get(field)
    return None


def _flatten(detail: object, data: object, index: int | None = None, field: str | None = None) -> list[dict]:
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            if isinstance(data, list) and str(key).isdigit():  # a bulk request's errors, by row
                errors += _flatten(value, data, int(key))
            else:
                errors += _flatten(value, data, index, None if key in ("non_field_errors", "__all__") else key)
        return errors
    if isinstance(detail, list):
        if detail and all(isinstance(item, dict) for item in detail) and isinstance(data, list):
            return [error for row, item in enumerate(detail) for error in _flatten(item, data, row)]
        return [error for item in detail for error in _flatten(item, data, index, field)]
    code = getattr(detail, "code", None) or "invalid"
    return [{"index": index, "field": field, "value": _sent(data, index, field), "code": code, "message": str(detail)}]


def serializer_errors(detail: object, data: object) -> list[dict]:
    """Turn a serializer's errors on ``data`` (an object, or a list of rows) into error rows, one per field."""
    return _one_per_field(_flatten(detail, data))


def errors_response(errors: list[dict], status_code: int) -> Response:
    """Return the one error format."""
    return Response({"errors": errors}, status=status_code)


def django_validation_errors(exc: DjangoValidationError, data: object, index: int | None = None) -> list[dict]:
    """Turn a service's ``ValidationError`` (fields or not) into error rows."""
    if hasattr(exc, "error_dict"):
        return [
            {
                "index": index,
                "field": None if field == "__all__" else field,
                "value": _sent(data, index, None if field == "__all__" else field),
                "code": error.code or "invalid",
                "message": message,
            }
            for field, errors in exc.error_dict.items()
            for error in errors
            for message in error.messages
        ]
    return [
        {"index": index, "field": None, "value": None, "code": error.code or "invalid", "message": message}
        for error in exc.error_list
        for message in error.messages
    ]


class RequestTooLarge(exceptions.APIException):
    """The body is bigger than ``API_MAX_REQUEST_BYTES``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def request_too_large() -> RequestTooLarge:
    """Return the error of a body over the ceiling, naming the ceiling."""
    limit = settings.API_MAX_REQUEST_BYTES
    return RequestTooLarge(_("A request body takes at most %(max)d bytes: split the request.") % {"max": limit})


def _data_of(request: object) -> object:
    # What was sent, to name the values: a read's query string, else the body as parsed (a body that
    # cannot be parsed is itself the error). Read only for a refused input, never for a 401 or a 403.
    if request is None:
        return None
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return request.query_params.dict()
    try:
        return request.data
    except exceptions.APIException:
        return None


def _one_per_field(errors: list[dict]) -> list[dict]:
    # One value refused once: a number too big for its field is not also "too many digits".
    seen, kept = set(), []
    for error in errors:
        place = (error["index"], error["field"])
        if error["field"] is None or place not in seen:
            kept.append(error)
        seen.add(place)
    return kept


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"


def _masked(text: str) -> str:
    return "*" * len(text) if len(text) < 8 else f"{'*' * (len(text) - 4)}{text[-4:]}"


def _echoed(value: object, personal: bool) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if personal:
        return _masked(_cut(text, ECHO_MAX))
    return value if len(text) <= ECHO_MAX else _cut(text, ECHO_MAX)


def _cleaned(error: dict, full_numbers: bool) -> dict:
    value, message = error.get("value"), str(error.get("message", ""))
    personal = not full_numbers and bool(_PERSONAL_NUMBER.search(str(error.get("field") or "")))
    echoed = _echoed(value, personal)
    if isinstance(value, str) and value and echoed != value:
        message = message.replace(value, str(echoed))
    return {**error, "value": echoed, "message": _cut(message, MESSAGE_MAX)}


def errors_cleaned(data: object, *, full_numbers: bool) -> object:
    """Return an answer's body with its error rows fit to echo: long values cut, personal numbers masked.

    Personal numbers (ID card, mobile, phone fields) stay whole only for callers who may see full
    numbers; any other body is returned as it is.
    """
    if not (isinstance(data, dict) and isinstance(data.get("errors"), list)):
        return data
    errors = [_cleaned(error, full_numbers) if isinstance(error, dict) else error for error in data["errors"]]
    return {**data, "errors": errors}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answer every error in the one format (the exception handler of ``REST_FRAMEWORK``)."""
    if isinstance(exc, Refused):
        return errors_response(exc.errors, exc.status_code)
    if isinstance(exc, DjangoValidationError):
        data = _data_of(context.get("request"))
        return errors_response(django_validation_errors(exc, data), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        exc = request_too_large()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": serializer_errors(exc.detail, _data_of(context.get("request")))}
    else:
        code = getattr(exc, "default_code", "error")
        response.data = {
            "errors": [{"index": None, "field": None, "value": None, "code": code, "message": str(exc.detail)}]
        }
    return response
