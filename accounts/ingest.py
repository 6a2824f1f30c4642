"""Record a set of payments, or of reversals, at once: checked whole, inserted once per external reference.

The one path for every payment, whether it comes alone (``payment_post``), in a bulk request of
the API or in a ledger file. Whatever the number of rows, it takes a fixed number of statements:
the lines are locked and read in one, the references already recorded in one, the unpaid bills
of every line in one; the allocation runs in memory with the one rule (``accounts.allocation``),
line by line in the order the payments were received; payments, allocations, bill figures and
their history rows are then written with one set-based statement each.

Reversals (``payments_reverse``, and ``payment_reverse`` for one) take the same path: the lines
of the payments reversed are locked in one statement, those payments and any reversal already
recorded read in one, their allocations as they stand netted per bill in one; the reversals are
then written by the same statements as payments, with one more for their events.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.allocation import COMPONENTS, Share, take
from accounts.choices import PaymentChannel, ReversalReason
from accounts.ingest_writes import payments_insert, shares_apply
from accounts.models import CreditLine, Payment, PaymentAllocation
from accounts.positions import unpaid_bills
from accounts.validators import PAYMENT_CLOCK_SKEW, validate_received_at
from backoffice.kernel.bulksql import member_of, members
from backoffice.kernel.events import EventType, events_record
from backoffice.kernel.money import fen_to_yuan, yuan_to_fen

MAX_REFERENCE_LENGTH = Payment._meta.get_field("external_reference").max_length
MAX_NOTE_LENGTH = 500
_CHANNELS = frozenset(PaymentChannel.values)
_REASONS = frozenset(ReversalReason.values)


class PaymentRow(NamedTuple):
    """A payment as sent: the line's contract number, the reference, the amount in yuan (or fen), how and when.

    Tuples, as ``Posted``: a bulk request or a file's batch makes thousands, and a frozen dataclass
    takes several times as long to make.
    """

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


class Posted(NamedTuple):
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
    # A reversal's: the payment it takes back, why, and what its history says of it.
    reversal_of: int | None = None
    reversal_reason: str = ""
    reversal_note: str = ""
    change_reason: str | None = None


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
    _check_reference(row.external_reference, index, errors)
    if row.channel not in _CHANNELS:
        message = _("Unknown payment channel %(value)r.") % {"value": row.channel}
        errors.append(RowError(index, "channel", row.channel, "invalid_choice", message))
    when = row.received_at
    if not isinstance(when, datetime.datetime) or timezone.is_naive(when):
        message = _("Received time %(value)r must be a date and time with a time zone.") % {"value": when}
        errors.append(RowError(index, "received_at", when, "invalid", message))
    return amount_fen


def _check_reference(reference: str, index: int, errors: list[RowError]) -> None:
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        message = _("External reference %(value)r must be 1 to 64 characters.") % {"value": reference}
        errors.append(RowError(index, "external_reference", reference, "invalid", message))


def _reused(index: int, reference: str, *, code: str = "reused") -> RowError:
    message = _("External reference %(value)r was already used for a different payment.") % {"value": reference}
    return RowError(index, "external_reference", reference, code, message)


def _lock_lines(condition: str, params: list) -> dict[str, tuple[int, datetime.date]]:
    """Lock the lines ``condition`` selects (in id order, so that two sets never wait on each other).

    Returns each one's id and opening date by its number.
    """
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
        lines = _lock_lines(*member_of("number", sorted({row.credit_line for row in rows})))
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
    return first._replace(replayed=True)


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


@dataclass(frozen=True)
class ReversalRow:
    """A payment taken back, as sent: the payment's external reference, the reversal's own, why, when and a note."""

    payment: str
    external_reference: str
    reason: str
    reversed_at: datetime.datetime
    note: str = ""


@dataclass(frozen=True)
class Reversed:
    """A reversal as recorded, with the payment it takes back, and whether it was recorded before this call."""

    payment_id: int
    credit_line_id: int
    credit_line: str
    payment: str
    external_reference: str
    amount_fen: int
    reason: str
    replayed: bool


@dataclass(frozen=True)
class _Stored:
    """A payment (or reversal) already recorded, as the checks of a reversal read it."""

    id: int
    reference: str
    line_id: int
    amount_fen: int
    credit_fen: int
    channel: str
    received_at: datetime.datetime
    reversal_of: int | None
    reason: str


_STORED = (
    "id",
    "external_reference",
    "credit_line_id",
    "amount_fen",
    "unallocated_fen",
    "channel",
    "received_at",
    "reversal_of_id",
    "reversal_reason",
)
# The code the reversals' refusals have always carried; a reference reused says so by its message.
_REFUSED = "invalid"


def payments_reverse(*, rows: list[ReversalRow], actor: AbstractBaseUser | None) -> list[Reversed]:
    """Record the reversal of each payment of ``rows`` not reversed before; all or nothing.

    A reversal is a payment of its own: its amount and credit are the negatives of the payment's,
    its allocations the negatives of the payment's as they stand (netted per bill, after any
    amendment moved them), dated at the reversal, so that what the bills were paid goes back; each
    writes a ``payment.reversed`` event. Returns one ``Reversed`` per row, in order. The same
    reference for the same payment again (recorded before, or twice in the set) is a replay and
    records nothing. An unknown payment, a reversal reversed, a payment already reversed under
    another reference, a reference of another payment, a reversal time before the payment was
    received or in the future, or a bad reason or note refuse the set: raises ``PaymentsRefused``
    naming every bad row, field and value, and nothing is written.
    """
    errors: list[RowError] = []
    for index, row in enumerate(rows):
        _check_reversal(row, index, errors)
    payments = sorted({row.payment for row in rows})
    with transaction.atomic():
        condition, params = member_of("external_reference", payments)
        lines = _lock_lines(f"id IN (SELECT credit_line_id FROM {Payment._meta.db_table} WHERE {condition})", params)
        numbers = {line_id: number for number, (line_id, _opened_on) in lines.items()}
        stored = _stored(sorted({*payments, *(row.external_reference for row in rows)}))
        fresh = _sort_out_reversals(rows, stored, numbers, errors, now=timezone.now())
        if errors:
            raise PaymentsRefused(sorted(errors, key=lambda error: error.index))
        ids: dict[str, int] = {}
        if fresh:
            ids = _reversals_record(list(fresh.values()), rows, actor)
        return [_reversed(row, stored, fresh, ids, numbers) for row in rows]


def _check_reversal(row: ReversalRow, index: int, errors: list[RowError]) -> None:
    """Check one reversal on its own."""
    _check_reference(row.external_reference, index, errors)
    if row.reason not in _REASONS:
        message = _("Unknown reversal reason %(value)r.") % {"value": row.reason}
        errors.append(RowError(index, "reason", row.reason, _REFUSED, message))
    when = row.reversed_at
    if not isinstance(when, datetime.datetime) or timezone.is_naive(when):
        message = _("Reversal time %(value)r must be a date and time with a time zone.") % {"value": when}
        errors.append(RowError(index, "reversed_at", when, _REFUSED, message))
    if len(row.note or "") > MAX_NOTE_LENGTH:
        message = _("A note takes at most 500 characters, not %(value)d.") % {"value": len(row.note)}
        errors.append(RowError(index, "note", len(row.note), _REFUSED, message))


def _stored(references: list[str]) -> dict[str, _Stored]:
    """Return the payments recorded under these references, and the reversals of those, by reference."""
    named = Payment.objects.filter(external_reference__in=members(references, "text"))
    found = Payment.objects.filter(
        Q(external_reference__in=members(references, "text")) | Q(reversal_of__in=named.values("pk"))
    )
    return {row[1]: _Stored(*row) for row in found.values_list(*_STORED)}


def _sort_out_reversals(
    rows: list[ReversalRow],
    stored: dict[str, _Stored],
    numbers: dict[int, str],
    errors: list[RowError],
    *,
    now: datetime.datetime,
) -> dict[str, _New]:
    """Tell replays from new reversals, adding an error for every row that cannot be recorded; return the new."""
    reversed_by = {payment.reversal_of: payment.reference for payment in stored.values() if payment.reversal_of}
    fresh: dict[str, _New] = {}
    bad = {error.index for error in errors}
    for index, row in enumerate(rows):
        if index in bad:
            continue
        original = stored.get(row.payment)
        # A payment recorded after the lines were locked (on a line not locked here) was not there to reverse.
        if original is None or original.line_id not in numbers:
            message = _("No payment has the external reference %(value)r.") % {"value": row.payment}
            errors.append(RowError(index, "payment", row.payment, "unknown", message))
            continue
        earlier = stored.get(row.external_reference) or fresh.get(row.external_reference)
        if earlier is not None:
            # The same reference for the same payment is a replay, whatever else the row says.
            if earlier.reversal_of != original.id:
                errors.append(_reused(index, row.external_reference, code=_REFUSED))
            continue
        refusal = _irreversible(row, index, original, reversed_by.get(original.id), now=now)
        if refusal is not None:
            errors.append(refusal)
            continue
        fresh[row.external_reference] = _reversal_of(original, row, index, numbers[original.line_id])
        reversed_by[original.id] = row.external_reference
    return fresh


def _irreversible(
    row: ReversalRow, index: int, original: _Stored, reversed_by: str | None, *, now: datetime.datetime
) -> RowError | None:
    """Return why ``original`` cannot be reversed as ``row`` says, if it cannot."""
    if original.reversal_of is not None:
        message = _("Payment %(value)r is itself a reversal.") % {"value": original.reference}
        return RowError(index, "payment", row.payment, _REFUSED, message)
    if reversed_by is not None:
        message = _("Payment %(value)r was already reversed by %(by)r.") % {
            "value": original.reference,
            "by": reversed_by,
        }
        return RowError(index, "payment", row.payment, _REFUSED, message)
    when = row.reversed_at.isoformat()
    if row.reversed_at < original.received_at:
        message = _("Reversal time %(value)s is before the payment was received (%(received)s).") % {
            "value": when,
            "received": original.received_at.isoformat(),
        }
        return RowError(index, "reversed_at", when, _REFUSED, message)
    if row.reversed_at > now + PAYMENT_CLOCK_SKEW:
        message = _("Reversal time %(value)s is in the future.") % {"value": when}
        return RowError(index, "reversed_at", when, "future", message)
    return None


def _reversal_of(original: _Stored, row: ReversalRow, index: int, number: str) -> _New:
    """Return the reversal of ``original`` that ``row`` asks for, its shares still to be read."""
    why = _("Payment %(value)s reversed (%(reason)s).") % {
        "value": original.reference,
        "reason": ReversalReason(row.reason).label,
    }
    return _New(
        index,
        original.line_id,
        number,
        row.external_reference,
        -original.amount_fen,
        original.channel,
        row.reversed_at,
        timezone.localdate(row.reversed_at),
        credit_fen=-original.credit_fen,
        reversal_of=original.id,
        reversal_reason=row.reason,
        reversal_note=(row.note or "").strip(),
        change_reason=why,
    )


def _reversals_record(new: list[_New], rows: list[ReversalRow], actor: AbstractBaseUser | None) -> dict[str, int]:
    """Write the reversals (in the order sent), their shares, the bills' figures, the history and the events."""
    _take_back(new)
    ids = _write(new, actor=actor, reused_code=_REFUSED)
    events_record(
        (
            EventType.PAYMENT_REVERSED,
            None,
            p.line_id,
            {
                "payment": rows[p.index].payment,
                "reversal": p.reference,
                "amount": str(fen_to_yuan(-p.amount_fen)),
                "reason": p.reversal_reason,
            },
        )
        for p in new
    )
    return ids


def _take_back(new: list[_New]) -> None:
    """Give each reversal the negatives of its payment's allocations as they stand, netted per bill."""
    nets = (
        PaymentAllocation.objects.filter(payment_id__in=members([p.reversal_of for p in new]))
        .values("payment_id", "bill_id")
        .annotate(**{part: Sum(f"{part}_fen") for part in COMPONENTS})
        .order_by("payment_id", "bill_id")
    )
    shares: dict[int, list[Share]] = defaultdict(list)
    for net in nets:
        share = Share(net["bill_id"], -net["fees"], -net["interest"], -net["principal"])
        # A bill the payment's allocations net to nothing on (an amendment moved it all) is left alone.
        if share.total_fen:
            shares[net["payment_id"]].append(share)
    for reversal in new:
        reversal.shares = shares[reversal.reversal_of]


def _reversed(
    row: ReversalRow, stored: dict[str, _Stored], fresh: dict[str, _New], ids: dict[str, int], numbers: dict[int, str]
) -> Reversed:
    original = stored[row.payment]
    number = numbers[original.line_id]
    new = fresh.get(row.external_reference)
    if new is not None:
        reference = new.reference
        return Reversed(
            ids[reference], new.line_id, number, row.payment, reference, new.amount_fen, new.reversal_reason, False
        )
    earlier = stored[row.external_reference]
    return Reversed(
        earlier.id, original.line_id, number, row.payment, earlier.reference, earlier.amount_fen, earlier.reason, True
    )


def _record(new: list[_New], actor: AbstractBaseUser | None) -> dict[int, Posted]:
    """Write the new payments, their allocations, the bills' figures and the history of both."""
    # In the order received, so that allocation ids follow it and the bills' history can replay it.
    ids = _write(_allocate(new), actor=actor)
    return {
        p.index: Posted(ids[p.reference], p.line_id, p.number, p.reference, p.amount_fen, p.credit_fen, False)
        for p in new
    }


def _write(payments: list[_New], *, actor: AbstractBaseUser | None, reused_code: str = "reused") -> dict[str, int]:
    """Insert the payments and their shares, in the order given; apply the shares to the bills, with history.

    The order given is the order the shares apply in: allocation ids follow it, and each bill's
    history replays it. Returns the payments' ids by reference.
    """
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
            p.reversal_reason,
            p.reversal_note,
            p.reversal_of,
        )
        for p in payments
    ]
    reasons = {p.reference: p.change_reason for p in payments if p.change_reason}
    ids = payments_insert(rows, now=now, actor_id=actor_id, reasons=reasons)
    if len(ids) != len(payments):
        # Another transaction recorded one of these references meanwhile, on another line
        # (the same line is locked): that is a reference reused for a different payment.
        missing = sorted((p for p in payments if p.reference not in ids), key=lambda p: p.index)
        raise PaymentsRefused([_reused(p.index, p.reference, code=reused_code) for p in missing])
    allocations = [
        (ids[p.reference], s.bill_id, s.fees_fen, s.interest_fen, s.principal_fen, p.received_on)
        for p in payments
        for s in p.shares
    ]
    by_id = {ids[reference]: why for reference, why in reasons.items()}
    shares_apply(allocations, now=now, actor_id=actor_id, reasons=by_id)
    return ids
