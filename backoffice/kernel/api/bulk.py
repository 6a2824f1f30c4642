"""The opening of every bulk write: one object or a list of up to a ceiling, read whole, or refused naming each bad row.

A request of plainly well-formed rows is read directly (``strict.plain_rows``), since a thousand
rows through a serializer's per-field machinery cost more than recording them; any other goes
through the serializer, whose errors name every bad row, field and value.
"""

from dataclasses import dataclass

from rest_framework import serializers, status
from rest_framework.response import Response

from backoffice.kernel.api.errors import errors_response, serializer_errors
from backoffice.kernel.api.strict import plain_rows


@dataclass(frozen=True)
class Bulk:
    """What a bulk request sent, the rows read from it, and the refusal to answer instead (or None)."""

    sent: list
    rows: list[dict]
    refused: Response | None


def bulk_read(data: object, serializer_class: type[serializers.Serializer], *, most: int, size_message: str) -> Bulk:
    """Read ``data`` (an object: one row) with ``serializer_class``, 1 to ``most`` rows.

    ``size_message`` says what a request carries, with ``%(max)d`` and ``%(n)d`` for the ceiling and the count sent.
    """
    sent = data if isinstance(data, list) else [data]
    if not 1 <= len(sent) <= most:
        message = size_message % {"max": most, "n": len(sent)}
        error = {"index": None, "field": None, "value": len(sent), "code": "size", "message": message}
        return Bulk(sent, [], errors_response([error], status.HTTP_400_BAD_REQUEST))
    rows = plain_rows(serializer_class, sent)
    if rows is None:
        serializer = serializer_class(data=sent, many=True)
        if not serializer.is_valid():
            refused = errors_response(serializer_errors(serializer.errors, sent), status.HTTP_400_BAD_REQUEST)
            return Bulk(sent, [], refused)
        rows = serializer.validated_data
    return Bulk(sent, rows, None)
