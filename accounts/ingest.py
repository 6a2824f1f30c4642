"""Record a set of payments at once: checked whole, inserted once per external reference, allocated set-wise.

The one path for every payment, whether it comes alone (``payment_post``), in a bulk request of
the API or in a ledger file. Whatever the number of rows, it takes a fixed number of statements:
the lines are locked and read in one, the references already recorded in one, the unpaid bills
of every line in one; the allocation runs in memory with the one rule (``accounts.allocation``),
line by line in the order the payments were received; payments, allocations, bill figures and
their history rows are then written with one set-based statement each.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.allocation import COMPONENTS, Share, take
from accounts.choices import PaymentChannel
from accounts.models import Bill, CreditLine, Payment, PaymentAllocation
from accounts.positions import unpaid_bills
from accounts.validators import validate_received_at
from backoffice.kernel.bulksql import insert_new_rows, insert_rows, member_of, members
from backoffice.kernel.money import yuan_to_fen

MAX_REFERENCE_LENGTH = Payment._meta.get_field("external_reference").max_length
_CHANNELS = frozenset(PaymentChannel.values)


@dataclass(frozen=True)
class PaymentRow:
    """A payment as sent: the line's contract number, the reference, the amount in yuan (or fen), how and when."""

    credit_line: str
    external_reference: str
    amount: Decimal | str | None
    channel: str
    received_at: datetime.datetime
    # Set instead of ``amount`` by a caller that already holds integer fen (a parsed file).
    amount_fen: int | None = None


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: its index in the set, the field, the value sent and why."""

    index: int
    field: str
    value: object
    code: str
    message: str


class PaymentsRefused(ValidationError):
    """The set was refused, nothing written; ``row_errors`` names every bad row, field and value."""

    def __init__(self, row_errors: list[RowError]) -> None:
        """Keep the row errors, and offer them by field as any ``ValidationError``."""
        by_field: dict[str, list[ValidationError]] = defaultdict(list)
        for error in row_errors:
            by_field[error.field].append(ValidationError(error.message, code=error.code))
        super().__init__(dict(by_field))
        self.row_errors = row_errors


@dataclass(frozen=True)
class Posted:
    """A payment as recorded, and whether it was recorded before (a replay)."""

    payment_id: int
    credit_line_id: int
    credit_line: str
    external_reference: str
    amount_fen: int
    unallocated_fen: int
    replayed: bool


@dataclass
class _New:
    """A payment this call records, while it is being allocated."""

    index: int
    line_id: int
    number: str
    reference: str
    amount_fen: int
    channel: str
    received_at: datetime.datetime
    received_on: datetime.date
    shares: list[Share] | None = None
    credit_fen: int = 0


def _amount_fen(row: PaymentRow, index: int, errors: list[RowError]) -> int:
    if row.amount_fen is not None:
        amount_fen = row.amount_fen
    else:
        try:
            amount_fen = yuan_to_fen(row.amount)
        except ValidationError as exc:
            errors.append(RowError(index, "amount", row.amount, "invalid", exc.message_dict["amount"][0]))
            return 0
    if amount_fen <= 0:
        shown = row.amount if row.amount is not None else amount_fen
        errors.append(
            RowError(
                index, "amount", shown, "min_value", _("Amount %(value)s must be greater than zero.") % {"value": shown}
            )
        )
    return amount_fen


def _check_row(row: PaymentRow, index: int, errors: list[RowError]) -> int:
    """Check one row on its own; return its amount in fen."""
    amount_fen = _amount_fen(row, index, errors)
    reference = row.external_reference
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        message = _("External reference %(value)r must be 1 to 64 characters.") % {"value": reference}
        errors.append(RowError(index, "external_reference", reference, "invalid", message))
    if row.channel not in _CHANNELS:
        message = _("Unknown payment channel %(value)r.") % {"value": row.channel}
        errors.append(RowError(index, "channel", row.channel, "invalid_choice", message))
    when = row.received_at
    if not isinstance(when, datetime.datetime) or timezone.is_naive(when):
        message = _("Received time %(value)r must be a date and time with a time zone.") % {"value": when}
        errors.append(RowError(index, "received_at", when, "invalid", message))
    return amount_fen


def _reused(index: int, reference: str) -> RowError:
    message = _("External reference %(value)r was already used for a different payment.") % {"value": reference}
    return RowError(index, "external_reference", reference, "reused", message)


def _lock_lines(numbers: list[str]) -> dict[str, tuple[int, datetime.date]]:
    """Lock the lines named (in id order, so that two sets never wait on each other); return id and opening by number."""
    condition, params = member_of("number", numbers)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT number, id, opened_on FROM {CreditLine._meta.db_table} WHERE {condition} ORDER BY id{lock}",
            params,
        )
        return {number: (line_id, _as_date(opened_on)) for number, line_id, opened_on in cursor.fetchall()}


def _as_date(value: object) -> datetime.date:
    # SQLite's driver gives a date column back as its text.
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


_RECORDED = ("id", "external_reference", "credit_line_id", "amount_fen", "unallocated_fen", "channel", "received_at")


def _recorded(references: list[str]) -> dict[str, tuple]:
    """Return the payments already recorded under these references: ``(id, reference, line, amount, credit, channel, received)``."""
    found = Payment.objects.filter(external_reference__in=members(references, "text")).values_list(*_RECORDED)
    return {row[1]: row for row in found}


def payments_post(*, rows: list[PaymentRow], actor: AbstractBaseUser | None) -> list[Posted]:
    """Record every payment of ``rows`` not recorded before and allocate it; all or nothing.

    Returns one ``Posted`` per row, in order. A reference recorded before (or twice in the set)
    for the same line, amount, channel and time received is a replay and records nothing; for
    anything else it refuses the set. An unknown line, a bad amount, channel or time refuse it too: raises
    ``PaymentsRefused`` naming every bad row, and nothing is written.
    """
    errors: list[RowError] = []
    amounts = [_check_row(row, index, errors) for index, row in enumerate(rows)]
    with transaction.atomic():
        lines = _lock_lines(sorted({row.credit_line for row in rows}))
        recorded = _recorded(sorted({row.external_reference for row in rows}))
        posted, fresh = _sort_out(rows, amounts, lines, recorded, errors, now=timezone.now())
        if errors:
            raise PaymentsRefused(sorted(errors, key=lambda error: error.index))
        if fresh:
            for index, result in _record(list(fresh.values()), actor).items():
                posted[index] = result
        by_reference = {result.external_reference: result for result in posted if result is not None}
        return [posted[index] or _again(by_reference[row.external_reference]) for index, row in enumerate(rows)]


def _again(first: Posted) -> Posted:
    return Posted(**{**first.__dict__, "replayed": True})


def _sort_out(
    rows: list[PaymentRow],
    amounts: list[int],
    lines: dict[str, tuple[int, datetime.date]],
    recorded: dict[str, tuple],
    errors: list[RowError],
    *,
    now: datetime.datetime,
) -> tuple[list[Posted | None], dict[str, _New]]:
    """Tell replays from new payments, adding an error for every unknown line and reused reference."""
    zone = timezone.get_current_timezone()
    posted: list[Posted | None] = [None] * len(rows)
    fresh: dict[str, _New] = {}
    bad = {error.index for error in errors}
    for index, (row, amount_fen) in enumerate(zip(rows, amounts, strict=True)):
        line_id, opened_on = lines.get(row.credit_line, (None, None))
        if line_id is None:
            message = _("No credit line has the number %(value)r.") % {"value": row.credit_line}
            errors.append(RowError(index, "credit_line", row.credit_line, "unknown", message))
            continue
        if index in bad:
            continue
        reference = row.external_reference
        earlier = recorded.get(reference)
        if earlier is not None:
            payment_id, _ref, earlier_line, earlier_amount, credit_fen, earlier_channel, earlier_time = earlier
            if (earlier_line, earlier_amount, earlier_channel, earlier_time) != (
                line_id,
                amount_fen,
                row.channel,
                row.received_at,
            ):
                errors.append(_reused(index, reference))
                continue
            posted[index] = Posted(payment_id, line_id, row.credit_line, reference, amount_fen, credit_fen, True)
        elif reference in fresh:
            first = fresh[reference]
            if (first.line_id, first.amount_fen, first.channel, first.received_at) != (
                line_id,
                amount_fen,
                row.channel,
                row.received_at,
            ):
                errors.append(_reused(index, reference))
        elif _received_plausibly(row, index, opened_on, errors, now=now, zone=zone):
            received_on = row.received_at.astimezone(zone).date()
            fresh[reference] = _New(
                index, line_id, row.credit_line, reference, amount_fen, row.channel, row.received_at, received_on
            )
    return posted, fresh


def _received_plausibly(
    row: PaymentRow,
    index: int,
    opened_on: datetime.date,
    errors: list[RowError],
    *,
    now: datetime.datetime,
    zone: datetime.tzinfo,
) -> bool:
    try:
        validate_received_at(row.received_at, opened_on=opened_on, now=now, zone=zone)
    except ValidationError as exc:
        errors.append(RowError(index, "received_at", row.received_at.isoformat(), exc.code, exc.messages[0]))
        return False
    return True


def _allocate(new: list[_New]) -> list[_New]:
    """Allocate the new payments, per line in the order received; return them in that order."""
    owing: dict[int, list[list[int]]] = defaultdict(list)
    fields = ["id", "credit_line_id", *(f"{part}_{kind}_fen" for part in COMPONENTS for kind in ("due", "paid"))]
    bills = unpaid_bills(line_ids=sorted({payment.line_id for payment in new})).values_list(*fields)
    for bill_id, line_id, fees_due, fees_paid, interest_due, interest_paid, principal_due, principal_paid in bills:
        owing[line_id].append(
            [bill_id, fees_due - fees_paid, interest_due - interest_paid, principal_due - principal_paid]
        )
    received = sorted(new, key=lambda payment: (payment.received_at, payment.index))
    for payment in received:
        payment.shares, payment.credit_fen = take(payment.amount_fen, owing[payment.line_id])
    return received


_PAYMENT_COLUMNS = [
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
]

_ALLOCATION_COLUMNS = [
    ("payment_id", "bigint"),
    ("bill_id", "bigint"),
    ("fees_fen", "bigint"),
    ("interest_fen", "bigint"),
    ("principal_fen", "bigint"),
    ("received_on", "date"),
]


def _record(new: list[_New], actor: AbstractBaseUser | None) -> dict[int, Posted]:
    """Write the new payments, their allocations, the bills' figures and the history of both."""
    received = _allocate(new)
    now, actor_id = timezone.now(), actor.pk if actor is not None else None
    rows = [
        (
            p.line_id,
            p.reference,
            p.amount_fen,
            p.credit_fen,
            p.channel,
            p.received_at,
            p.received_on,
            now,
            actor_id,
            "",
            "",
        )
        for p in received
    ]
    inserted = insert_new_rows(
        Payment._meta.db_table,
        _PAYMENT_COLUMNS,
        rows,
        unique="external_reference",
        returning=["external_reference", "id"],
    )
    ids = dict(inserted)
    if len(ids) != len(new):
        # Another transaction recorded one of these references meanwhile, on another line
        # (the same line is locked): that is a reference reused for a different payment.
        raise PaymentsRefused([_reused(p.index, p.reference) for p in new if p.reference not in ids])
    # In the order received, so that allocation ids follow it and the bills' history can replay it.
    allocations = [
        (ids[p.reference], s.bill_id, s.fees_fen, s.interest_fen, s.principal_fen, p.received_on)
        for p in received
        for s in p.shares
    ]
    insert_rows(PaymentAllocation._meta.db_table, _ALLOCATION_COLUMNS, allocations)
    payment_ids = sorted(ids.values())
    with connection.cursor() as cursor:
        if allocations:
            # History first: it adds each share to the bill as it stood, as payments posted one by one would.
            cursor.execute(*_bill_history_sql(payment_ids, now, actor_id))
            cursor.execute(*_bill_update_sql(payment_ids))
        cursor.execute(*_payment_history_sql(payment_ids, now, actor_id))
    return {
        p.index: Posted(ids[p.reference], p.line_id, p.number, p.reference, p.amount_fen, p.credit_fen, False)
        for p in new
    }


_HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user_id")


def _history_columns(model: type) -> list[str]:
    """Return the columns of ``model``'s history table that copy the model's own, in order."""
    history = model.history.model._meta.concrete_fields
    return [field.column for field in history if field.column not in ("history_id", *_HISTORY_FIELDS)]


def _later(left: str, right: str) -> str:
    """SQL for the later of two dates, either of which may be NULL (the same on both databases)."""
    return f"CASE WHEN {left} IS NULL OR {right} > {left} THEN {right} ELSE {left} END"


def _bill_history_sql(payment_ids: list[int], now: datetime.datetime, actor_id: int | None) -> tuple[str, list]:
    """One history row per share: the bill with this share and those before it (in allocation order) added."""
    bill, allocation = Bill._meta.db_table, PaymentAllocation._meta.db_table
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
    condition, params = member_of("a.payment_id", payment_ids)
    sql = f"""
        INSERT INTO {Bill.history.model._meta.db_table} ({", ".join(columns)}, {", ".join(_HISTORY_FIELDS)})
        SELECT {", ".join(values)}, %s, NULL, '~', %s
          FROM {allocation} a JOIN {bill} b ON b.id = a.bill_id
         WHERE {condition}
    """
    return sql, [_moment(now), actor_id, *params]


def _bill_update_sql(payment_ids: list[int]) -> tuple[str, list]:
    """Add the new allocations to the bills they paid, in one statement."""
    sums = ", ".join(f"SUM({component}_fen) AS {component}" for component in COMPONENTS)
    paid = ", ".join(f"{component}_paid_fen = b.{component}_paid_fen + s.{component}" for component in COMPONENTS)
    condition, params = member_of("payment_id", payment_ids)
    sql = f"""
        UPDATE {Bill._meta.db_table} AS b SET {paid}, last_paid_on = {_later("b.last_paid_on", "s.last_received")}
          FROM (SELECT bill_id, {sums}, MAX(received_on) AS last_received FROM {PaymentAllocation._meta.db_table}
                 WHERE {condition} GROUP BY bill_id) s
         WHERE b.id = s.bill_id
    """
    return sql, params


def _payment_history_sql(payment_ids: list[int], now: datetime.datetime, actor_id: int | None) -> tuple[str, list]:
    """One history row per new payment, as django-simple-history writes on creation."""
    columns = ", ".join(_history_columns(Payment))
    condition, params = member_of("id", payment_ids)
    sql = f"""
        INSERT INTO {Payment.history.model._meta.db_table} ({columns}, {", ".join(_HISTORY_FIELDS)})
        SELECT {columns}, %s, NULL, '+', %s FROM {Payment._meta.db_table} WHERE {condition}
    """
    return sql, [_moment(now), actor_id, *params]


def _moment(value: datetime.datetime) -> object:
    return connection.ops.adapt_datetimefield_value(value)
