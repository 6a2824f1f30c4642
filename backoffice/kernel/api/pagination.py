"""Cursor pagination for the API's long lists: no ``COUNT(*)``, stable under inserts."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Pages in id order, newest last; ``?page_size=`` up to 500."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
