"""Cursor pagination for the API's long lists: no ``COUNT(*)``, stable under inserts."""

import re

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

# A place in id order, as ``encode_cursor`` writes it: an id of at most 18 digits.
_PLACE = re.compile(r"[0-9]{1,18}")


class IdCursorPagination(CursorPagination):
    """Pages in id order, newest last; ``?page_size=`` up to 500. A cursor not of our making is a 400."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request: Request) -> Cursor | None:
        """Return the cursor sent, or refuse it (field ``cursor``) when it is not one this list gave out."""
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = False
        if cursor is False or (
            cursor is not None and cursor.position is not None and not _PLACE.fullmatch(cursor.position)
        ):
            message = _("This cursor was not given out by this list: start again without it.")
            raise exceptions.ValidationError({self.cursor_query_param: [message]}, code="invalid_cursor")
        return cursor
