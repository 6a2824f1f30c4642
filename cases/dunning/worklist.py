"""Which credit lines of an id range the dunning run has to look at, in one SQL statement.

A line is left out when the plan would provably do nothing to it and its stored figures are
already right: an open case whose days past due and balance are unchanged and which is either
on a hold that has not expired or already at (or above) the stage its policy asks for; or a
line without a case that has not reached the policy's first threshold, or that was charged off. Everything else comes
back, and ``plan_line`` decides. So a same-day re-run returns almost nothing, and the first run
of a day (when every overdue line's DPD has moved) returns everything.
"""

import datetime
from dataclasses import dataclass

from django.db import connection

from accounts.choices import CreditLineStatus
from accounts.models import CreditLine, Product
from accounts.positions import as_date, days_since_sql, overdue_by_line_sql, position_params
from backoffice.kernel.bulksql import member_of_sql
from cases.casework.models import Case
from cases.choices import LADDER, OPEN_STAGES, Stage
from cases.dunning.models import DunningPolicy
from cases.dunning.plan import OpenCase

_THRESHOLD_COLUMNS = {
    Stage.REMINDER: "reminder_from_dpd",
    Stage.COLLECTION: "collection_from_dpd",
    Stage.LEGAL: "legal_from_dpd",
}


@dataclass(frozen=True)
class WorkItem:
    """One credit line to plan: its policy, what is overdue (if anything) and its open case (if any).

    ``policy_id`` (and ``customer_id``, needed only for a new case) is None for an open case with
    nothing overdue: it is resolved whatever its policy.
    """

    credit_line_id: int
    customer_id: int | None
    policy_id: int | None
    days_past_due: int
    overdue_fen: int
    case: OpenCase | None
    # What the queue rank needs beyond the plan: (last contact, broken promises, follow-up date).
    rank_inputs: tuple = (None, 0, None)


def _quoted(values: tuple[str, ...]) -> str:
    # Stage names are our own constants, never user input.
    return ", ".join(f"'{value}'" for value in values)


def _target_rank_sql(dpd: str) -> str:
    legal = _THRESHOLD_COLUMNS[Stage.LEGAL]
    clauses = [
        f"WHEN {dpd} >= pol.{legal} AND pos.overdue_fen >= pol.legal_min_balance_fen THEN {LADDER.index(Stage.LEGAL)}"
    ]
    clauses += [
        f"WHEN {dpd} >= pol.{_THRESHOLD_COLUMNS[stage]} THEN {LADDER.index(stage)}"
        for stage in reversed(LADDER)
        if stage != Stage.LEGAL
    ]
    return f"CASE {' '.join(clauses)} ELSE -1 END"


def _nothing_to_do_sql() -> str:
    dpd = days_since_sql("pos.oldest_due")
    ranks = " ".join(f"WHEN '{stage}' THEN {rank}" for rank, stage in enumerate(LADDER))
    stage_rank = f"CASE c.stage {ranks} ELSE {len(LADDER)} END"
    first = _THRESHOLD_COLUMNS[LADDER[0]]
    return f"""CASE
        WHEN c.id IS NULL THEN CASE WHEN {dpd} >= pol.{first} THEN 0 ELSE 1 END
        WHEN c.days_past_due <> {dpd} OR c.balance_fen <> pos.overdue_fen THEN 0
        WHEN c.stage = '{Stage.ON_HOLD}' THEN CASE WHEN c.hold_until >= %(as_of)s THEN 1 ELSE 0 END
        WHEN {_target_rank_sql(dpd)} <= {stage_rank} THEN 1
        ELSE 0 END"""


def _worklist_sql(*, among: bool = False) -> str:
    case, line = Case._meta.db_table, CreditLine._meta.db_table
    product, policy = Product._meta.db_table, DunningPolicy._meta.db_table
    among_lines = f"AND {member_of_sql('credit_line_id', 'lines')}" if among else ""
    case_columns = (
        "c.id, c.stage, c.days_past_due, c.balance_fen, c.hold_until, c.held_from_stage,"
        " c.last_contact_at, c.broken_promises, c.follow_up_on"
    )
    return f"""
        WITH pos AS ({overdue_by_line_sql(among=among)}),
        open_case AS (
            SELECT id, credit_line_id, stage, days_past_due, balance_fen, hold_until, held_from_stage,
                   last_contact_at, broken_promises, follow_up_on FROM {case}
             WHERE credit_line_id >= %(first)s AND credit_line_id <= %(last)s AND stage IN ({_quoted(OPEN_STAGES)})
                   {among_lines}
        )
        SELECT pos.credit_line_id, l.customer_id, p.policy_id, pos.oldest_due, pos.overdue_fen, {case_columns}
          FROM pos
          JOIN {line} l ON l.id = pos.credit_line_id AND l.id >= %(first)s AND l.id <= %(last)s
          JOIN {product} p ON p.id = l.product_id
          JOIN {policy} pol ON pol.id = p.policy_id
          LEFT JOIN open_case c ON c.credit_line_id = pos.credit_line_id
         WHERE ({_nothing_to_do_sql()}) = 0
           -- A charged-off line (settled or written off) never gets a new case.
           AND (c.id IS NOT NULL OR l.status <> '{CreditLineStatus.CHARGED_OFF}')
        UNION ALL
        SELECT c.credit_line_id, NULL, NULL, NULL, 0, {case_columns}
          FROM open_case c
         -- NOT IN, not NOT EXISTS: with the CTEs' row estimates PostgreSQL plans NOT EXISTS as a nested
         -- loop (every open case against every overdue line); NOT IN over pos (never NULL) is one hash.
         WHERE c.credit_line_id NOT IN (SELECT pos.credit_line_id FROM pos)
    """


def worklist(*, as_of: datetime.date, first_id: int, last_id: int, line_ids: list[int] | None = None) -> list[WorkItem]:
    """Return the lines in ``[first_id, last_id]`` (and among ``line_ids``, if given) the run has to plan on ``as_of``."""
    params = position_params(as_of, first_id, last_id, line_ids=line_ids)
    with connection.cursor() as cursor:
        cursor.execute(_worklist_sql(among=line_ids is not None), params)
        rows = cursor.fetchall()
    items = []
    for (
        line_id,
        customer_id,
        policy_id,
        oldest,
        overdue,
        case_id,
        stage,
        dpd,
        balance,
        hold_until,
        held_from,
        *rank,
    ) in rows:
        case, rank_inputs = None, (None, 0, None)
        if case_id is not None:
            case = OpenCase(case_id, stage, dpd, balance, as_date(hold_until) if hold_until else None, held_from)
            last_contact, broken, follow_up = rank
            rank_inputs = (as_datetime(last_contact), broken, as_date(follow_up) if follow_up else None)
        days = (as_of - as_date(oldest)).days if oldest is not None else 0
        items.append(WorkItem(line_id, customer_id, policy_id, days, int(overdue), case, rank_inputs))
    return items


def as_datetime(value: datetime.datetime | str | None) -> datetime.datetime | None:
    """Return an aware datetime from what a raw cursor gives back (SQLite: naive UTC, as text or datetime)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def open_case_count(*, first_id: int, last_id: int, line_ids: list[int] | None = None) -> int:
    """Return how many open cases the id range (or those of its lines among ``line_ids``) holds."""
    cases = Case.objects.filter(credit_line_id__gte=first_id, credit_line_id__lte=last_id, stage__in=OPEN_STAGES)
    if line_ids is not None:
        cases = cases.filter(credit_line_id__in=line_ids)
    return cases.count()
