"""Days past due and overdue balance of credit lines as of a business date, in one SQL statement.

A bill is overdue on day D when it fell due before D and was not fully paid by the end of D.
What was unpaid on D is what is unpaid now plus what was allocated to it after D (net: a
reversal's allocations are negative, dated at the reversal); ``last_paid_on`` (the last day any
allocation touched the bill) lets the query look at allocations only for the rare bill touched
after D, so the usual run (D = today) reads the bills table alone.

The dunning run reads whole ranges of credit lines with it; the ledger reads single lines.

Below it, the two reads everything else asks of the ledger, each written once: what a line owes
today per component (``line_balance``: the case page, the letters' snapshot, dispatch) and the
payments on a line since a moment (``payments_since``: promise judging, settlement completion,
dispatch).
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Expression, Min, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.models import UNPAID_SQL, Bill, CreditLine, Payment, PaymentAllocation, Product
from backoffice.kernel.bulksql import member_of_sql, member_param, members

COMPONENTS = ("principal", "interest", "fees")


@dataclass(frozen=True)
class Position:
    """Where a credit line stands on a date."""

    credit_line_id: int
    policy_id: int
    oldest_overdue_due_date: datetime.date | None
    overdue_fen: int
    as_of: datetime.date

    @property
    def days_past_due(self) -> int:
        """Return the days since the oldest overdue bill fell due, 0 when nothing is overdue."""
        if self.oldest_overdue_due_date is None:
            return 0
        return (self.as_of - self.oldest_overdue_due_date).days


def overdue_by_line_sql(*, among: bool = False) -> str:
    """Return SQL giving ``credit_line_id, oldest_due, overdue_fen`` per line with anything overdue.

    Parameters: ``%(as_of)s``, ``%(first)s``, ``%(last)s`` (the credit-line id range) and, with
    ``among``, ``%(lines)s``: only those lines of the range (``position_params(line_ids=...)``). Two scans
    feed the aggregate: bills unpaid today (through the partial index of unpaid bills), and
    bills paid off since ``as_of`` (through the index on ``last_paid_on``; empty on the day).
    """
    bill, alloc = Bill._meta.db_table, PaymentAllocation._meta.db_table
    due = "(b.principal_due_fen + b.interest_due_fen + b.fees_due_fen)"
    paid = "(b.principal_paid_fen + b.interest_paid_fen + b.fees_paid_fen)"
    paid_since = f"""COALESCE((SELECT SUM(a.fees_fen + a.interest_fen + a.principal_fen) FROM {alloc} a
                      WHERE a.bill_id = b.id AND a.received_on > %(as_of)s), 0)"""
    in_range = "b.credit_line_id >= %(first)s AND b.credit_line_id <= %(last)s AND b.due_date < %(as_of)s"
    if among:
        in_range += f" AND {member_of_sql('b.credit_line_id', 'lines')}"
    # Allocations since ``as_of`` may be negative (a reversal, an amendment's excess moved away):
    # a bill paid in full on ``as_of`` and reversed later then nets to nothing, and is left out.
    return f"""
        SELECT credit_line_id, MIN(due_date) AS oldest_due, SUM(unpaid_fen) AS overdue_fen FROM (
            SELECT b.credit_line_id, b.due_date,
                   {due} - {paid} + CASE WHEN b.last_paid_on > %(as_of)s THEN {paid_since} ELSE 0 END AS unpaid_fen
              FROM {bill} b
             WHERE {in_range} AND {UNPAID_SQL}
            UNION ALL
            SELECT b.credit_line_id, b.due_date, {paid_since} AS unpaid_fen
              FROM {bill} b
             WHERE {in_range} AND NOT {UNPAID_SQL} AND b.last_paid_on > %(as_of)s
        ) overdue_bills
         WHERE unpaid_fen > 0
         GROUP BY credit_line_id
    """


def days_since_sql(earlier: str) -> str:
    """Return SQL for the whole days from the date column ``earlier`` to ``%(as_of)s``."""
    if connection.vendor == "postgresql":
        return f"(CAST(%(as_of)s AS date) - {earlier})"
    return f"CAST(julianday(%(as_of)s) - julianday({earlier}) AS INTEGER)"


def _positions_sql() -> str:
    line, product = CreditLine._meta.db_table, Product._meta.db_table
    return f"""
        SELECT pos.credit_line_id, p.policy_id, pos.oldest_due, pos.overdue_fen
          FROM ({overdue_by_line_sql()}) pos
          JOIN {line} l ON l.id = pos.credit_line_id AND l.id >= %(first)s AND l.id <= %(last)s
          JOIN {product} p ON p.id = l.product_id
    """


def position_params(as_of: datetime.date, first_id: int, last_id: int, *, line_ids: list[int] | None = None) -> dict:
    """Return the parameters of the position SQL (``line_ids`` for the SQL built with ``among``)."""
    params = {"as_of": connection.ops.adapt_datefield_value(as_of), "first": first_id, "last": last_id}
    if line_ids is not None:
        params["lines"] = member_param(line_ids)
    return params


def as_date(value: datetime.date | str) -> datetime.date:
    """Return a date from what a raw cursor gives back (SQLite returns text)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def overdue_positions(*, as_of: datetime.date, first_id: int, last_id: int) -> dict[int, Position]:
    """Return the position of every credit line in ``[first_id, last_id]`` with anything overdue on ``as_of``."""
    with connection.cursor() as cursor:
        cursor.execute(_positions_sql(), position_params(as_of, first_id, last_id))
        rows = cursor.fetchall()
    return {
        line_id: Position(line_id, policy_id, as_date(oldest), int(total), as_of)
        for line_id, policy_id, oldest, total in rows
    }


def credit_line_position(*, credit_line: CreditLine, as_of: datetime.date) -> Position:
    """Return one credit line's days past due and overdue balance as of ``as_of``."""
    found = overdue_positions(as_of=as_of, first_id=credit_line.pk, last_id=credit_line.pk)
    if credit_line.pk in found:
        return found[credit_line.pk]
    return Position(credit_line.pk, credit_line.product.policy_id, None, 0, as_of)


@dataclass(frozen=True)
class Amounts:
    """What a set of bills asked and was paid, per component (fen), and the oldest due date among them."""

    due: dict[str, int]
    paid: dict[str, int]
    oldest_due_date: datetime.date | None

    @property
    def owed(self) -> dict[str, int]:
        """Return what is still owed per component."""
        return {name: self.due[name] - self.paid[name] for name in COMPONENTS}

    @property
    def paid_fen(self) -> int:
        """Return what was paid on these bills, all components together."""
        return sum(self.paid.values())

    @property
    def total_fen(self) -> int:
        """Return what is still owed, all components together."""
        return sum(self.owed.values())


@dataclass(frozen=True)
class Balance:
    """A line's unpaid bills on a day: those overdue (due before it) and those not yet overdue."""

    overdue: Amounts
    upcoming: Amounts


_PERIODS = {"overdue": "due_date__lt", "upcoming": "due_date__gte"}


def line_balance(*, credit_line_id: int, as_of: datetime.date) -> Balance:
    """Return what the line's unpaid bills ask and were paid, per component, overdue on ``as_of`` or not yet.

    A bill is overdue on ``as_of`` when it fell due before that day and is not fully paid (as the
    letters and the dunning run count it); one query whatever the number of bills.
    """
    sums = {}
    for period, lookup in _PERIODS.items():
        where = Q(**{lookup: as_of})
        sums[f"{period}_oldest"] = Min("due_date", filter=where)
        for name in COMPONENTS:
            for part in ("due", "paid"):
                sums[f"{period}_{name}_{part}"] = Coalesce(Sum(f"{name}_{part}_fen", filter=where), 0)
    row = Bill.objects.filter(credit_line_id=credit_line_id).unpaid().aggregate(**sums)
    return Balance(
        **{
            period: Amounts(
                due={name: row[f"{period}_{name}_due"] for name in COMPONENTS},
                paid={name: row[f"{period}_{name}_paid"] for name in COMPONENTS},
                oldest_due_date=row[f"{period}_oldest"],
            )
            for period in _PERIODS
        }
    )


def payments_since(
    *,
    credit_line_id: int | Expression,
    since: datetime.datetime | Expression,
    received_by: datetime.date | Expression | None = None,
) -> QuerySet:
    """Return the payments on a line recorded at or after ``since`` (and received by ``received_by``).

    Reversals net out: a payment reversed is not counted, and neither is a reversal (whose
    original, if it was recorded before ``since``, was never counted either), so that money that
    did not stay never keeps a promise, completes a settlement or stops a letter.

    The arguments may be values or ``OuterRef`` expressions, so that the same read serves one
    line (``.exists()``, ``paid_fen``) and a set-wise query over many (``paid_fen_subquery``).
    """
    payments = Payment.objects.filter(
        credit_line_id=credit_line_id, recorded_at__gte=since, reversal_of__isnull=True, reversal__isnull=True
    )
    if received_by is not None:
        payments = payments.filter(received_on__lte=received_by)
    return payments


def paid_fen(payments: QuerySet) -> int:
    """Return the sum of ``payments`` in fen."""
    return payments.aggregate(total=Coalesce(Sum("amount_fen"), 0))["total"]


def paid_fen_subquery(payments: QuerySet) -> Coalesce:
    """Return the sum of ``payments`` (built with ``OuterRef``) as an expression for each outer row."""
    total = payments.order_by().values("credit_line_id").annotate(total=Sum("amount_fen")).values("total")
    return Coalesce(Subquery(total[:1]), 0)


def unpaid_bills(*, line_ids: list[int]) -> QuerySet:
    """Return the unpaid bills of these lines, oldest first as payments are allocated, in one query.

    What each still owes is its amounts due less its amounts paid (netted of any reversal), the
    figures the allocation of a new payment starts from.
    """
    return Bill.objects.filter(credit_line_id__in=members(line_ids)).unpaid().oldest_first()
