"""The statements that write a set of payments (or reversals): the rows, their shares, the bills, the history.

``accounts.ingest`` decides what to write; this module writes it. On PostgreSQL a set takes two
statements whatever its size, each over arrays bound on the server (one parameter per column):
the payments with their history rows, then the shares with the bills' new figures and the bills'
history rows (data-modifying ``WITH``: every part reads the bills as they stood before the
statement, as the history needs). On SQLite, which has no such ``WITH``, the same writes take a
statement each.
"""

import datetime
from collections.abc import Sequence

from django.db import connection

from accounts.allocation import COMPONENTS
from accounts.models import Bill, Payment, PaymentAllocation
from backoffice.kernel.bulksql import (
    Column,
    bound_cursor,
    column_arrays,
    insert_new_rows,
    insert_rows,
    member_of,
    values_table,
)

PAYMENT_COLUMNS: list[Column] = [
    ("credit_line_id", "bigint"),
    ("external_reference", "text"),
    ("amount_fen", "bigint"),
    ("unallocated_fen", "bigint"),
    ("channel", "text"),
    ("received_at", "timestamptz"),
    ("received_on", "date"),
    ("recorded_at", "timestamptz"),
    ("recorded_by_id", "integer"),
    ("reversal_reason", "text"),
    ("reversal_note", "text"),
    ("reversal_of_id", "bigint"),
]

ALLOCATION_COLUMNS: list[Column] = [
    ("payment_id", "bigint"),
    ("bill_id", "bigint"),
    ("fees_fen", "bigint"),
    ("interest_fen", "bigint"),
    ("principal_fen", "bigint"),
    ("received_on", "date"),
]

_HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user_id")


def payments_insert(
    rows: Sequence[Sequence[object]], *, now: datetime.datetime, actor_id: int | None, reasons: dict[str, str]
) -> dict[str, int]:
    """Insert the payments (``PAYMENT_COLUMNS``) whose reference is new, with their history; return their ids by reference.

    A reference another transaction recorded meanwhile is skipped (missing from the result), not an
    error: the caller refuses the set, and its rollback takes the history rows back too. ``reasons``
    gives the change reason of a payment's history row by reference.
    """
    if not rows:
        return {}
    if connection.vendor != "postgresql":
        inserted = dict(
            insert_new_rows(
                Payment._meta.db_table,
                PAYMENT_COLUMNS,
                rows,
                unique="external_reference",
                returning=["external_reference", "id"],
            )
        )
        with connection.cursor() as cursor:
            by_id = {inserted[reference]: why for reference, why in reasons.items() if reference in inserted}
            cursor.execute(*_payment_history_sql(sorted(inserted.values()), now, actor_id, by_id))
        return inserted
    names = ", ".join(name for name, _type in PAYMENT_COLUMNS)
    source, arrays = column_arrays(PAYMENT_COLUMNS, rows)
    columns = _history_columns(Payment)
    reason, join, reason_params = _reasons_sql(
        [("reference", "text")], sorted(reasons.items()), "new.external_reference", "reference"
    )
    sql = f"""
        WITH new AS (
            INSERT INTO {Payment._meta.db_table} ({names}) SELECT * FROM {source}
            ON CONFLICT (external_reference) DO NOTHING RETURNING *
        ), history AS (
            INSERT INTO {Payment.history.model._meta.db_table} ({", ".join(columns)}, {", ".join(_HISTORY_FIELDS)})
            SELECT {", ".join(f"new.{column}" for column in columns)}, %s::timestamptz, {reason}, '+', %s::integer
              FROM new {join}
        )
        SELECT external_reference, id FROM new
    """
    with bound_cursor() as cursor:
        cursor.execute(sql, [*arrays, now, actor_id, *reason_params])
        return dict(cursor.fetchall())


def shares_apply(
    allocations: Sequence[Sequence[object]],
    *,
    now: datetime.datetime,
    actor_id: int | None,
    reasons: dict[int, str],
) -> None:
    """Insert the shares (``ALLOCATION_COLUMNS``, in the order they apply), add them to their bills, with history.

    One history row per share: the bill with this share and those before it (in allocation order)
    added, as payments posted one by one would leave it. ``reasons`` gives it by payment id.
    """
    if not allocations:
        return
    if connection.vendor != "postgresql":
        insert_rows(PaymentAllocation._meta.db_table, ALLOCATION_COLUMNS, allocations)
        payment_ids = sorted({row[0] for row in allocations})
        table = PaymentAllocation._meta.db_table
        with connection.cursor() as cursor:
            # History first: it adds each share to the bill as it stood.
            condition, params = member_of("a.payment_id", payment_ids)
            cursor.execute(*_bill_history_sql(f"{table} a", condition, params, now, actor_id, reasons))
            cursor.execute(*_bill_update_sql(table, *member_of("payment_id", payment_ids)))
        return
    names = ", ".join(name for name, _type in ALLOCATION_COLUMNS)
    source, arrays = column_arrays(ALLOCATION_COLUMNS, allocations)
    update, update_params = _bill_update_sql("alloc", "TRUE", [])
    # The bills the shares paid, named again for the history's join: without them the planner
    # reads the bills' primary key from its start up to the highest bill paid (a merge join).
    bill_ids = arrays[[name for name, _type in ALLOCATION_COLUMNS].index("bill_id")]
    history, history_params = _bill_history_sql(
        "alloc a", "b.id = ANY(%s::bigint[])", [bill_ids], now, actor_id, reasons
    )
    sql = f"""
        WITH alloc AS (
            INSERT INTO {PaymentAllocation._meta.db_table} ({names}) SELECT * FROM {source} RETURNING *
        ), paid AS ({update})
        {history}
    """
    with bound_cursor() as cursor:
        cursor.execute(sql, [*arrays, *update_params, *history_params])


def _history_columns(model: type) -> list[str]:
    """Return the columns of ``model``'s history table that copy the model's own, in order."""
    history = model.history.model._meta.concrete_fields
    return [field.column for field in history if field.column not in ("history_id", *_HISTORY_FIELDS)]


def _later(left: str, right: str) -> str:
    """SQL for the later of two dates, either of which may be NULL (the same on both databases)."""
    return f"CASE WHEN {left} IS NULL OR {right} > {left} THEN {right} ELSE {left} END"


def _reasons_sql(key: list[Column], reasons: list[tuple], joined: str, name: str) -> tuple[str, str, list]:
    """Return the change reason of history rows: the column, a join (if any) and its parameters.

    ``reasons`` gives it as ``(key, reason)`` pairs, ``joined`` is the key's column in the statement; a
    row whose key it does not name has none (NULL).
    """
    if not reasons:
        return "NULL", "", []
    table, params = values_table([*key, ("reason", "text")], reasons)
    return "why.reason", f"LEFT JOIN {table} why ON why.{name} = {joined}", params


def _bill_history_sql(
    allocations: str,
    condition: str,
    params: list,
    now: datetime.datetime,
    actor_id: int | None,
    reasons: dict[int, str],
) -> tuple[str, list]:
    """One history row per share of ``allocations`` (a table aliased ``a``) that ``condition`` selects."""
    columns = _history_columns(Bill)
    running = "OVER (PARTITION BY a.bill_id ORDER BY a.id ROWS UNBOUNDED PRECEDING)"
    values = []
    for column in columns:
        component = column.removesuffix("_paid_fen")
        if component in COMPONENTS:
            values.append(f"b.{column} + SUM(a.{component}_fen) {running}")
        elif column == "last_paid_on":
            values.append(_later("b.last_paid_on", f"MAX(a.received_on) {running}"))
        else:
            values.append(f"b.{column}")
    reason, join, reason_params = _reasons_sql(
        [("payment_id", "bigint")], sorted(reasons.items()), "a.payment_id", "payment_id"
    )
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    user = "::integer" if connection.vendor == "postgresql" else ""
    sql = f"""
        INSERT INTO {Bill.history.model._meta.db_table} ({", ".join(columns)}, {", ".join(_HISTORY_FIELDS)})
        SELECT {", ".join(values)}, %s{cast}, {reason}, '~', %s{user}
          FROM {allocations} JOIN {Bill._meta.db_table} b ON b.id = a.bill_id {join}
         WHERE {condition}
    """
    return sql, [_moment(now), actor_id, *reason_params, *params]


def _bill_update_sql(allocations: str, condition: str, params: list) -> tuple[str, list]:
    """Add the shares of ``allocations`` that ``condition`` selects to the bills they paid, in one statement."""
    sums = ", ".join(f"SUM({component}_fen) AS {component}" for component in COMPONENTS)
    paid = ", ".join(f"{component}_paid_fen = b.{component}_paid_fen + s.{component}" for component in COMPONENTS)
    sql = f"""
        UPDATE {Bill._meta.db_table} AS b SET {paid}, last_paid_on = {_later("b.last_paid_on", "s.last_received")}
          FROM (SELECT bill_id, {sums}, MAX(received_on) AS last_received FROM {allocations}
                 WHERE {condition} GROUP BY bill_id) s
         WHERE b.id = s.bill_id
    """
    return sql, params


def _payment_history_sql(
    payment_ids: list[int], now: datetime.datetime, actor_id: int | None, reasons: dict[int, str]
) -> tuple[str, list]:
    """One history row per new payment, as django-simple-history writes on creation."""
    columns = _history_columns(Payment)
    condition, params = member_of("p.id", payment_ids)
    reason, join, reason_params = _reasons_sql(
        [("payment_id", "bigint")], sorted(reasons.items()), "p.id", "payment_id"
    )
    sql = f"""
        INSERT INTO {Payment.history.model._meta.db_table} ({", ".join(columns)}, {", ".join(_HISTORY_FIELDS)})
        SELECT {", ".join(f"p.{column}" for column in columns)}, %s, {reason}, '+', %s
          FROM {Payment._meta.db_table} p {join}
         WHERE {condition}
    """
    return sql, [_moment(now), actor_id, *reason_params, *params]


def _moment(value: datetime.datetime) -> object:
    return connection.ops.adapt_datetimefield_value(value)
