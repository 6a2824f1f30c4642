"""One error format for every endpoint: ``{"errors": [{"index", "field", "value", "code", "message"}]}``.

``index`` is the row of a bulk request (None for a single object); ``value`` is what was sent for
the field (in the body, or in the query string of a read), so that the lender's system can find the
bad row without searching. What is echoed is cut to ``ECHO_MAX`` characters, and personal numbers are
masked for callers who may not see them (``backoffice.kernel.api.echo``, applied as the answer is rendered).
"""

from collections.abc import Iterable
from typing import Protocol

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from backoffice.kernel.api.parsers import Refused, request_too_large


def _sent(data: object, index: int | None, field: str | None) -> object:
    row = data[index] if index is not None and isinstance(data, list) and index < len(data) else data
    if field and isinstance(row, dict):
        return row.get(field)
    return None


def _row_number(key: object) -> bool:
    """Return whether an error key is a row's index: ASCII digits only (``"²".isdigit()`` is true too)."""
    return isinstance(key, int) or (isinstance(key, str) and key.isascii() and key.isdigit())


def _flatten(detail: object, data: object, index: int | None = None, field: str | None = None) -> list[dict]:
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            if isinstance(data, list) and index is None and _row_number(key):  # a bulk request's errors, by row
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


class RowError(Protocol):
    """A refused row of a set-wise service: its index in the set, the field, why (a code and a message)."""

    index: int
    field: str
    code: str
    message: str


def row_errors(errors: Iterable[RowError], sent: list) -> list[dict]:
    """Turn a set-wise service's row errors into error rows, each naming its value as sent."""
    return [
        {
            "index": error.index,
            "field": error.field,
            "value": _sent(sent, error.index, error.field),
            "code": error.code,
            "message": error.message,
        }
        for error in errors
    ]


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
