"""Set-based inserts and updates that run on both PostgreSQL and SQLite.

PostgreSQL gets one statement per call, its rows passed as typed arrays through ``unnest``;
SQLite, which runs in-process, gets ``executemany``. Columns are given as ``(name, pg_type)``.
"""

from collections.abc import Sequence

from django.db import connection

Column = tuple[str, str]


def _adapt(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> list[list[object]]:
    """Adapt dates and datetimes as the backend stores them (SQLite: text in UTC)."""
    ops = connection.ops
    adapters = []
    for _name, pg_type in columns:
        if pg_type == "timestamptz":
            adapters.append(ops.adapt_datetimefield_value)
        elif pg_type == "date":
            adapters.append(ops.adapt_datefield_value)
        else:
            adapters.append(None)
    return [[adapt(value) if adapt else value for adapt, value in zip(adapters, row, strict=True)] for row in rows]


def _unnest(columns: Sequence[Column]) -> str:
    return ", ".join(f"%s::{pg_type}[]" for _name, pg_type in columns)


def _columns_of(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def insert_rows(table: str, columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> int:
    """Insert ``rows`` into ``table``; return how many were inserted."""
    if not rows:
        return 0
    names = ", ".join(name for name, _type in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({_unnest(columns)})"
            cursor.execute(sql, _columns_of(rows, len(columns)))
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", _adapt(columns, rows))
    return len(rows)


def update_rows(
    table: str, *, key: Column, guard: Column | None, columns: Sequence[Column], rows: Sequence[Sequence[object]]
) -> set[object]:
    """Update rows by ``key``, only where ``guard`` still has the expected value; return the keys updated.

    Each row is ``(key, guard_value, *column_values)`` (no guard value when ``guard`` is None).
    The guard is a compare-and-set: a row someone changed meanwhile is left alone and its key
    is missing from the result.
    """
    if not rows:
        return set()
    assignments = ", ".join(f"{name} = v.{name}" for name, _type in columns)
    all_columns = [key, *([guard] if guard else []), *columns]
    condition = f"t.{key[0]} = v.{key[0]}" + (f" AND t.{guard[0]} = v.guard_value" if guard else "")
    if connection.vendor == "postgresql":
        aliases = ", ".join([key[0], *(["guard_value"] if guard else []), *(name for name, _type in columns)])
        sql = (
            f"UPDATE {table} AS t SET {assignments} FROM unnest({_unnest(all_columns)}) AS v({aliases}) "
            f"WHERE {condition} RETURNING t.{key[0]}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, _columns_of(rows, len(all_columns)))
            return {row[0] for row in cursor.fetchall()}
    sets = ", ".join(f"{name} = %s" for name, _type in columns)
    where = f"{key[0]} = %s" + (f" AND {guard[0]} = %s" if guard else "")
    adapted = _adapt(all_columns, rows)
    width = 2 if guard else 1
    reordered = [row[width:] + row[:width] for row in adapted]
    updated = set()
    with connection.cursor() as cursor:
        # SQLite transactions here are IMMEDIATE, so nobody writes between our read and this
        # update; row-by-row execution still tells us exactly which guards held.
        for row, original in zip(reordered, rows, strict=True):
            cursor.execute(f"UPDATE {table} SET {sets} WHERE {where}", row)
            if cursor.rowcount:
                updated.add(original[0])
    return updated
