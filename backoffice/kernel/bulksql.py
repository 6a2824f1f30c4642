"""Set-based inserts and updates that run on both PostgreSQL and SQLite.

PostgreSQL gets ``COPY`` straight into the table, and one statement over arrays (``unnest``, one
parameter per column, bound on the server) for an update or an insert that skips rows present; a
large update (the night's batches) goes through a temporary table filled by ``COPY`` instead. SQLite,
which runs in-process, gets ``executemany``. Columns are given as ``(name, pg_type)``.
"""

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from django.db import OperationalError, connection, transaction
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models.expressions import RawSQL

_temp_names = itertools.count(1)
logger = logging.getLogger(__name__)
T = TypeVar("T")

Column = tuple[str, str]


def _adapt(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> list[list[object]]:
    """Adapt dates, datetimes and UUIDs as SQLite stores them (text in UTC, hex digits)."""
    ops = connection.ops
    adapters = []
    for _name, pg_type in columns:
        if pg_type == "timestamptz":
            adapters.append(ops.adapt_datetimefield_value)
        elif pg_type == "date":
            adapters.append(ops.adapt_datefield_value)
        elif pg_type == "uuid":
            adapters.append(lambda value: value.hex)  # as Django stores a UUIDField there: 32 hex digits
        else:
            adapters.append(None)
    return [[adapt(value) if adapt else value for adapt, value in zip(adapters, row, strict=True)] for row in rows]


# Up to this many rows an update travels as arrays in one statement; past it, through COPY and a temporary table.
_ARRAYS_MOST = 10_000


@contextmanager
def bound_cursor() -> Iterator[object]:
    """Yield a cursor whose parameters PostgreSQL binds (not spliced into the text by the driver).

    A thousand-element array then travels in the driver's binary format instead of being written
    out as a literal and parsed back. Counted and logged as any other cursor's statements.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    with connection._prepare_cursor(raw) as cursor:  # the wrapping every Django cursor gets
        yield cursor


def column_arrays(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> tuple[str, list[object]]:
    """Return ``unnest(...)`` of one typed array per column (PostgreSQL) and those arrays, for ``bound_cursor``.

    Integers and flags go as one array literal each, written at C speed (``str.join``); the rest as
    lists the driver sends in binary (``%b``), which costs it half of what writing them out as text does.
    """
    casts, values = [], []
    for (_name, pg_type), column in zip(columns, zip(*rows, strict=True) if rows else [()] * len(columns), strict=True):
        literal = _LITERALS.get(pg_type)
        if literal is None:
            casts.append(f"%b::{pg_type}[]")
            values.append(list(column))
        else:
            casts.append(f"%s::{pg_type}[]")
            values.append("{" + ",".join("NULL" if value is None else literal(value) for value in column) + "}")
    return f"unnest({', '.join(casts)})", values


def _flag(value: object) -> str:
    return "t" if value else "f"


# Array elements whose text never needs quoting in an array literal: digits, t/f.
_LITERALS = {"bigint": str, "integer": str, "smallint": str, "boolean": _flag}


def _copy_in(cursor: object, table: str, names: str, rows: Sequence[Sequence[object]]) -> None:
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(table: str, columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> int:
    """Insert ``rows`` into ``table``; return how many were inserted."""
    if not rows:
        return 0
    names = ", ".join(name for name, _type in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy_in(cursor, table, names, rows)
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
    all_columns = [key, *([(f"{guard[0]}_was", guard[1])] if guard else []), *columns]
    condition = f"t.{key[0]} = v.{key[0]}" + (f" AND t.{guard[0]} = v.{guard[0]}_was" if guard else "")
    if connection.vendor == "postgresql":
        if len(rows) > _ARRAYS_MOST:
            return _update_from_copy(table, key, all_columns, assignments, condition, rows)
        source, arrays = column_arrays(all_columns, rows)
        names = ", ".join(name for name, _type in all_columns)
        with bound_cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM (SELECT * FROM {source} AS v({names})) AS v "
                f"WHERE {condition} RETURNING t.{key[0]}",
                arrays,
            )
            return {row[0] for row in cursor.fetchall()}
    sets = ", ".join(f"{name} = %s" for name, _type in columns)
    where = f"{key[0]} = %s" + (f" AND {guard[0]} = %s" if guard else "")
    adapted = _adapt(all_columns, rows)
    width = 2 if guard else 1
    reordered = [row[width:] + row[:width] for row in adapted]
    with connection.cursor() as cursor:
        if guard is None:
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {where}", reordered)
            return {row[0] for row in rows}
        # SQLite transactions here are IMMEDIATE, so nobody writes between this read of the rows
        # whose guard still holds and their update: two statements, whatever the number of rows.
        cursor.execute(
            f"SELECT t.{key[0]} FROM {table} t JOIN json_each(%s) v"
            f" ON t.{key[0]} = json_extract(v.value, '$[0]') AND t.{guard[0]} = json_extract(v.value, '$[1]')",
            [json.dumps([row[:2] for row in adapted])],
        )
        holding = {found for (found,) in cursor.fetchall()}
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {where}", [row for row in reordered if row[-2] in holding])
        updated = {original[0] for original, row in zip(rows, adapted, strict=True) if row[0] in holding}
    return updated


def _update_from_copy(
    table: str,
    key: Column,
    all_columns: Sequence[Column],
    assignments: str,
    condition: str,
    rows: Sequence[Sequence[object]],
) -> set[object]:
    temp = f"bulk_update_{next(_temp_names)}"
    definition = ", ".join(f"{name} {pg_type}" for name, pg_type in all_columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({definition}) ON COMMIT DROP")
        _copy_in(cursor, temp, ", ".join(name for name, _type in all_columns), rows)
        cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM {temp} AS v WHERE {condition} RETURNING t.{key[0]}")
        updated = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {temp}")
    return updated


def member_of_sql(column: str, name: str) -> str:
    """Return SQL true where ``column`` is one of the values of the named parameter ``name`` (``member_param``).

    PostgreSQL takes the values as one array; SQLite as one JSON list, read back with ``json_each``.
    Either way the statement has one parameter, so it is parsed once whatever the size of the set.
    """
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%({name})s)"
    return f"{column} IN (SELECT value FROM json_each(%({name})s))"


def member_param(values: Sequence[object]) -> object:
    """Return ``values`` as the one parameter ``member_of_sql`` reads."""
    return _pg_array(values) if connection.vendor == "postgresql" else json.dumps(list(values))


def _pg_array(values: Sequence[object]) -> object:
    """Return ``values`` for a PostgreSQL array parameter: integers as an array literal, anything else as a list.

    The driver writes a list out element by element in Python, quoting each; a thousand ids joined
    at C speed cost a tenth of that.
    """
    values = list(values)
    if values and all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return values


def member_of(column: str, values: Sequence[object]) -> tuple[str, list[object]]:
    """Return SQL true where ``column`` is one of ``values`` with a positional parameter, and that parameter."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [member_param(values)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [member_param(values)]


def values_table(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> tuple[str, list[object]]:
    """Return SQL for a derived table of ``rows`` (to join under an alias), and its parameters.

    PostgreSQL takes one array per column (``unnest``), SQLite one JSON list (``json_each``): a
    fixed number of parameters whatever the number of rows, so the statement is parsed once.
    """
    names = [name for name, _type in columns]
    if connection.vendor == "postgresql":
        # The only text spliced in is our own column names and types; the values are bound.
        arrays = ", ".join(f"%s::{pg_type}[]" for _name, pg_type in columns)
        values = [list(column) for column in zip(*rows, strict=True)] or [[] for _column in columns]
        return f"(SELECT * FROM unnest({arrays}) AS v({', '.join(names)}))", values
    fields = ", ".join(f"json_extract(value, '$[{n}]') AS {name}" for n, name in enumerate(names))
    return f"(SELECT {fields} FROM json_each(%s))", [json.dumps(_adapt(columns, rows))]


def insert_new_rows(
    table: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    *,
    unique: str,
    returning: Sequence[str],
) -> list[tuple]:
    """Insert the rows whose ``unique`` column is not in ``table`` yet; return ``returning`` of those inserted.

    PostgreSQL: one ``INSERT … SELECT`` over the rows as arrays, ``ON CONFLICT DO NOTHING
    RETURNING``, so a row another transaction inserted meanwhile is skipped, not an error.
    SQLite (whose write transactions exclude every other writer): the same through
    ``executemany``, then the inserted rows read back by their unique column.
    """
    if not rows:
        return []
    names = ", ".join(name for name, _type in columns)
    back = ", ".join(returning)
    if connection.vendor == "postgresql":
        source, arrays = column_arrays(columns, rows)
        with bound_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM {source} ON CONFLICT ({unique}) DO NOTHING RETURNING {back}",
                arrays,
            )
            return cursor.fetchall()
    position = [name for name, _type in columns].index(unique)
    keys = [row[position] for row in rows]
    condition, params = member_of(unique, keys)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {unique} FROM {table} WHERE {condition}", params)
        present = {key for (key,) in cursor.fetchall()}
        fresh = [row for row in rows if row[position] not in present]
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", _adapt(columns, fresh))
        wanted = [row[position] for row in fresh]
        condition, params = member_of(unique, wanted)
        cursor.execute(f"SELECT {back} FROM {table} WHERE {condition}", params)
        return cursor.fetchall()


def members(values: Sequence[object], pg_type: str = "bigint") -> RawSQL:
    """Return ``values`` as a one-parameter subquery for an ORM ``__in`` lookup, however many there are.

    A plain ``__in`` with thousands of values builds (and the driver then parses) a statement
    with as many placeholders; this one has one, an array (PostgreSQL) or a JSON list (SQLite).
    """
    if pg_type not in _ARRAY_TYPES:
        raise ValueError(f"members() takes one of {sorted(_ARRAY_TYPES)}, not {pg_type!r}.")
    # The values are a bound parameter; the only text spliced in is one of our own type names.
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{pg_type}[])", [_pg_array(values)])  # noqa: S611 - values are bound
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(list(values))])


_ARRAY_TYPES = frozenset({"bigint", "integer", "text"})


def jit_off() -> None:
    """Turn PostgreSQL's JIT off for the rest of the transaction (call it inside ``transaction.atomic()``).

    Set-wise statements over a whole portfolio are estimated as costly enough for the JIT, which then
    spends longer compiling them (0.5 to 2 s a statement, measured) than they take to run.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def sort_memory_raise(*, megabytes: int = 64) -> None:
    """Let PostgreSQL sort and hash in memory for the rest of the transaction (inside ``transaction.atomic()``).

    The night's report statements sort and group the whole portfolio once; with the default 4 MB they spill
    to disk in external merges. One such statement runs at a time, so the memory is bounded.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{int(megabytes)}MB'")


@contextmanager
def hash_grouping() -> Iterator[None]:
    """Group by hashing, not sorting, in the statements run inside (PostgreSQL; inside ``transaction.atomic()``).

    For a statement that groups a whole portfolio into a few dozen rows: the planner estimates a group
    per line or so, and then sorts every row to group them, where a hash table of the few groups would do.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
    yield
    # Not in a ``finally``: after an error the transaction is aborted and refuses every statement, which would
    # hide the error; its rollback (or a savepoint's) undoes the setting anyway.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort TO DEFAULT")


_DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE when it breaks a deadlock by failing one transaction


def deadlocked(error: BaseException) -> bool:
    """Return whether ``error`` is PostgreSQL failing this transaction to break a deadlock."""
    cause = error.__cause__ if isinstance(error, OperationalError) else None
    return getattr(cause, "sqlstate", None) == _DEADLOCK_DETECTED


def retried_on_deadlock(run: Callable[[], T], *, attempts: int = 3, what: str = "transaction") -> T:
    """Run ``run``, a whole transaction, again (up to ``attempts`` in all) when PostgreSQL fails it for a deadlock.

    The deadlock's other side has then gone on, and a transaction that was rolled back whole can simply
    run again. Only outermost transactions are run again: inside another one, the rollback is the caller's.
    """
    for attempt in itertools.count(1):
        try:
            return run()
        except OperationalError as error:
            if attempt >= attempts or connection.in_atomic_block or not deadlocked(error):
                raise
            logger.warning("deadlock broken by the database; running the %s again", what, extra={"attempt": attempt})
            time.sleep(0.05 * attempt)  # let the other side commit first
