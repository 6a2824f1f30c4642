"""A file's checked rows held in a temporary table, then handed back line by line in the order received.

A kind of file that declares ``staged_columns`` (payments) is read once: its rows are checked and
written to a temporary table of this connection as they are read, and only once the whole file is
known to be good are they applied, from the table, sorted by ``staged_order``. Each batch then holds
every row of its credit lines (a line is split only when it alone has more rows than a batch), so
each line's cases are brought up to date once, not once per batch that happens to touch it, and a
line's payments are allocated in the order they were received whatever the order of the file.
"""

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError, connection

from backoffice.kernel.bulksql import insert_rows

_names = itertools.count(1)


class StagingTable:
    """A temporary table of one kind's rows: ``number`` (the file's row number) and the kind's staged columns."""

    def __init__(self, columns: Sequence[tuple[str, str]]) -> None:
        """Name a new table for ``columns`` (``(name, pg_type)``)."""
        self.columns = [("number", "bigint"), *columns]
        self.name = f"ledger_import_staged_{next(_names)}"
        self.rows = 0

    def add(self, rows: Sequence[Sequence[object]]) -> None:
        """Append rows, each ``(number, *values)`` in the order of the columns."""
        self.rows += insert_rows(self.name, self.columns, rows)

    def batches(self, *, order: Sequence[str], group: str, size: int) -> Iterator[list[tuple]]:
        """Yield the rows sorted by ``order``, about ``size`` at a time, never splitting a ``group`` but to fit it."""
        sorted_name = f"{self.name}_sorted"
        names = [name for name, _type in self.columns]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {sorted_name} AS SELECT ROW_NUMBER() OVER (ORDER BY {', '.join(order)}) AS "
                f"position, {', '.join(names)} FROM {self.name}"
            )
            cursor.execute(f"CREATE INDEX {sorted_name}_position ON {sorted_name} (position)")
            at, key = 1, names.index(group)
            while True:
                cursor.execute(
                    f"SELECT {', '.join(names)} FROM {sorted_name} WHERE position >= %s ORDER BY position LIMIT %s",
                    [at, size + 1],
                )
                rows = cursor.fetchall()
                if len(rows) <= size:
                    if rows:
                        yield rows
                    return
                cut = size
                # Leave the last group for the next batch, unless it fills this one alone.
                while cut > 0 and rows[cut - 1][key] == rows[size][key]:
                    cut -= 1
                cut = cut or size
                yield rows[:cut]
                at += cut


@contextmanager
def staging_table(columns: Sequence[tuple[str, str]]) -> Iterator[StagingTable]:
    """Create a temporary table for ``columns`` for the ``with`` block; drop it (and its sorted copy) after."""
    table = StagingTable(columns)
    definition = ", ".join(f"{name} {pg_type}" for name, pg_type in table.columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table.name} ({definition})")
    try:
        yield table
    except BaseException:
        # The error raised is the one to show: a connection that failed cannot drop the tables (they go
        # with it), and that second error would hide the first.
        with contextlib.suppress(DatabaseError):
            _drop(table)
        raise
    _drop(table)


def _drop(table: StagingTable) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table.name}_sorted")
        cursor.execute(f"DROP TABLE IF EXISTS {table.name}")
