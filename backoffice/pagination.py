"""A paginator for lists over tables with millions of rows: never an unbounded ``COUNT(*)``."""

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property


def _estimated_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return max(int(row[0]), 0) if row else 0


class LargeTablePaginator(Paginator):
    """Count at most ``cap`` + 1 rows; on PostgreSQL, take the planner's estimate for an unfiltered list.

    A count past the cap only decides how many page links are offered; filters and search
    are how people reach the rest.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        """Return the exact count up to the cap, or an estimate for a large unfiltered table."""
        queryset = self.object_list
        if connection.vendor == "postgresql" and not queryset.query.where:
            estimate = _estimated_rows(queryset.model._meta.db_table)
            if estimate > self.cap:
                return estimate
        # The order decides nothing in a count: without it, an index alone can answer.
        return queryset.order_by()[: self.cap + 1].count()
