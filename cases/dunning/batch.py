"""The set-based dunning run: batches of credit lines by id range, a few statements per batch.

Per batch, in one transaction: read the lines that need looking at (one statement, see
``worklist``), plan each in memory with ``plan_line``, then write new cases, stage moves,
figures, transitions and freezes with one statement each. A killed run loses at most
the batch in flight; run again, it finds the finished batches already at their target and
leaves them alone, so it ends where an uninterrupted run would.
"""

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from accounts.choices import CreditLineStatus
from accounts.locks import credit_line_range_lock
from accounts.models import CreditLine
from backoffice.kernel.bulksql import insert_rows, jit_off, members, update_rows
from backoffice.kernel.events import EventType, events_record, stage_event
from cases.casework.closing import end_casework
from cases.casework.models import Case, CaseTransition
from cases.choices import LADDER, OPEN_STAGES, Stage
from cases.dunning.models import DunningPolicy, DunningRun
from cases.dunning.plan import LinePlan, Thresholds, edge_reason, plan_line
from cases.dunning.worklist import WorkItem, open_case_count, worklist
from cases.workload.priority import queue_rank_of

logger = logging.getLogger(__name__)

_CASE = Case._meta.db_table
_TRANSITION = CaseTransition._meta.db_table


@dataclass
class Tally:
    """What a run (or one batch) did."""

    lines_examined: int = 0
    opened: int = 0
    escalated_collection: int = 0
    escalated_legal: int = 0
    holds_ended: int = 0
    resolved: int = 0
    unchanged: int = 0
    lines_frozen: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    settlements_completed: int = 0
    recalled: int = 0
    assigned: int = 0
    letters_drafted: int = 0
    messages_planned: int = 0

    def __iadd__(self, other: "Tally") -> "Tally":
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
        return self

    def count_edge(self, source: str, target: str) -> None:
        """Count one transition by where it went."""
        if target == Stage.COLLECTION and source != Stage.ON_HOLD:
            self.escalated_collection += 1
        elif target == Stage.LEGAL and source != Stage.ON_HOLD:
            self.escalated_legal += 1
        elif target == Stage.RESOLVED:
            self.resolved += 1
        elif source == Stage.ON_HOLD:
            self.holds_ended += 1


def enters_collection_frozen(plan: LinePlan, thresholds: Thresholds | None) -> bool:
    """Return whether the plan moves the line into collection under a policy that freezes it."""
    return thresholds is not None and thresholds.freeze_line_on_collection and (LADDER[0], LADDER[1]) in plan.edges


@dataclass
class _Batch:
    """The writes one batch will make."""

    new_cases: list[tuple] = field(default_factory=list)
    new_case_edges: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)
    moves: list[tuple] = field(default_factory=list)
    move_edges: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)
    figures: list[tuple] = field(default_factory=list)
    freeze_line_ids: list[int] = field(default_factory=list)
    line_of: dict[int, int] = field(default_factory=dict)  # case id -> credit line id, for the events
    resolved: list[int] = field(default_factory=list)  # the cases resolved, once applied
    tally: Tally = field(default_factory=Tally)


def _rank(item: WorkItem, stage: str, as_of: datetime.date) -> int:
    """Return the queue rank the line's case will have, written with its other figures."""
    last_contact, broken, follow_up = item.rank_inputs
    return queue_rank_of(
        balance_fen=item.overdue_fen,
        days_past_due=item.days_past_due,
        stage=stage,
        last_contact_at=last_contact,
        broken_promises=broken,
        follow_up_on=follow_up,
        today=as_of,
    )


def _plan_batch(items: list[WorkItem], thresholds: dict[int, Thresholds], as_of: datetime.date) -> _Batch:
    batch = _Batch()
    reasons: dict[tuple, str] = {}
    for item in items:
        policy, case, dpd, overdue = thresholds.get(item.policy_id), item.case, item.days_past_due, item.overdue_fen
        plan = plan_line(case=case, thresholds=policy, days_past_due=dpd, overdue_fen=overdue, as_of=as_of)
        batch.tally.lines_examined += 1
        edges = []
        for src, dst in plan.edges:
            key = (src, dst, dpd, item.policy_id)
            if key not in reasons:
                reasons[key] = edge_reason(src, dst, days_past_due=dpd, thresholds=policy)
            edges.append((src, dst, reasons[key]))
            batch.tally.count_edge(src, dst)
        if enters_collection_frozen(plan, policy):
            batch.freeze_line_ids.append(item.credit_line_id)
        if plan.open_case:
            batch.tally.opened += 1
            stage = plan.final_stage or LADDER[0]
            batch.new_cases.append(
                (item.credit_line_id, item.customer_id, stage, dpd, overdue, _rank(item, stage, as_of))
            )
            if edges:
                batch.new_case_edges[item.credit_line_id] = edges
        elif edges:
            batch.moves.append(
                (case.case_id, case.stage, plan.final_stage, dpd, overdue, _rank(item, plan.final_stage, as_of))
            )
            batch.move_edges[case.case_id] = edges
            batch.line_of[case.case_id] = item.credit_line_id
        elif case is not None:
            batch.tally.unchanged += 1
            if (case.days_past_due, case.balance_fen) != (dpd, overdue):
                batch.figures.append((case.case_id, case.stage, dpd, overdue, _rank(item, case.stage, as_of)))
    return batch


def _insert_new_cases(
    batch: _Batch, run: DunningRun | None, as_of: datetime.date, now: datetime.datetime, frozen: set[int]
) -> list[tuple]:
    run_pk = run.pk if run else None
    rows = [
        (line_id, customer_id, stage, dpd, bal, rank, as_of, now, run_pk, run_pk, now, line_id in frozen)
        for line_id, customer_id, stage, dpd, bal, rank in batch.new_cases
    ]
    insert_rows(
        _CASE,
        [
            ("credit_line_id", "bigint"),
            ("customer_id", "bigint"),
            ("stage", "text"),
            ("days_past_due", "integer"),
            ("balance_fen", "bigint"),
            ("queue_rank", "integer"),
            ("opened_on", "date"),
            ("opened_at", "timestamptz"),
            ("opened_by_run_id", "bigint"),
            ("last_run_id", "bigint"),
            ("changed_at", "timestamptz"),
            ("froze_line", "boolean"),
        ],
        rows,
    )
    if not batch.new_cases:
        return []
    lines = [line_id for line_id, *_rest in batch.new_cases]
    opened = Case.objects.filter(
        credit_line_id__gte=min(lines), credit_line_id__lte=max(lines), opened_by_run=run, stage__in=OPEN_STAGES
    )
    if run is None:
        # Outside a run (the same day): each of these lines had no open case, so its open case is the new one.
        opened = opened.filter(credit_line_id__in=members(lines))
    ids = dict(opened.values_list("credit_line_id", "id"))
    batch.line_of.update({case_id: line_id for line_id, case_id in ids.items()})
    events_record((EventType.CASE_OPENED, ids[line_id], line_id, {}) for line_id in lines if line_id in ids)
    return [
        (ids[line_id], src, dst, reason, run_pk, now)
        for line_id, edges in batch.new_case_edges.items()
        for src, dst, reason in edges
    ]


def _apply_moves(batch: _Batch, run: DunningRun | None, now: datetime.datetime) -> list[tuple]:
    # Outside a run (the same day) a move keeps the case's last run, as the one-case path does.
    by_run = [("last_run_id", "bigint")] if run else []
    run_pk = [run.pk] if run else []
    rows = [
        (case_id, old, new, dpd, bal, rank, *run_pk, now if new == Stage.RESOLVED else None, "", "", None, "", now)
        for case_id, old, new, dpd, bal, rank in batch.moves
    ]
    moved = update_rows(
        _CASE,
        key=("id", "bigint"),
        guard=("stage", "text"),
        columns=[
            ("stage", "text"),
            ("days_past_due", "integer"),
            ("balance_fen", "bigint"),
            ("queue_rank", "integer"),
            *by_run,
            ("closed_at", "timestamptz"),
            ("hold_reason", "text"),
            ("hold_note", "text"),
            ("hold_until", "date"),
            ("held_from_stage", "text"),
            ("changed_at", "timestamptz"),
        ],
        rows=rows,
    )
    resolved = [case_id for case_id, _old, new, *_rest in batch.moves if new == Stage.RESOLVED and case_id in moved]
    batch.resolved = resolved
    if len(moved) != len(rows):
        # Someone moved these cases between our read and our write; the next run takes them up.
        logger.warning(
            "Dunning run %s: %d case(s) changed during the run were left alone.",
            run.pk if run else "(same day)",
            len(rows) - len(moved),
        )
    return [
        (case_id, src, dst, reason, run.pk if run else None, now)
        for case_id, edges in batch.move_edges.items()
        if case_id in moved
        for src, dst, reason in edges
    ]


def _apply(batch: _Batch, run: DunningRun | None, as_of: datetime.date) -> None:
    now = timezone.now()
    # The lines first, so that a new case is written knowing whether it froze its line (not updated after).
    frozen = _freeze_lines(batch.freeze_line_ids)
    transitions = _insert_new_cases(batch, run, as_of, now, frozen) + _apply_moves(batch, run, now)
    insert_rows(
        _TRANSITION,
        [
            ("case_id", "bigint"),
            ("from_stage", "text"),
            ("to_stage", "text"),
            ("reason", "text"),
            ("run_id", "bigint"),
            ("created_at", "timestamptz"),
        ],
        transitions,
    )
    events_record(
        (stage_event(dst), case_id, batch.line_of[case_id], {"from_stage": src, "to_stage": dst, "run": run_pk})
        for case_id, src, dst, _reason, run_pk, _at in transitions
    )
    if batch.resolved:
        # After the resolutions are reported, so that a line's unfreeze follows its case's resolution in the feed.
        end_casework(case_ids=batch.resolved, stage=Stage.RESOLVED)
    update_rows(
        _CASE,
        key=("id", "bigint"),
        guard=("stage", "text"),
        columns=[
            ("days_past_due", "integer"),
            ("balance_fen", "bigint"),
            ("queue_rank", "integer"),
            ("changed_at", "timestamptz"),
        ],
        rows=[(*figures, now) for figures in batch.figures],
    )
    batch.tally.lines_frozen = _frozen_recorded(frozen, opened={line_id for line_id, *_rest in batch.new_cases})


def _freeze_lines(line_ids: list[int]) -> set[int]:
    """Freeze the lines still active among ``line_ids``; return those frozen (a line the lender froze is not ours)."""
    return update_rows(
        CreditLine._meta.db_table,
        key=("id", "bigint"),
        guard=("status", "text"),
        columns=[("status", "text"), ("held_frozen", "boolean")],
        rows=[(line_id, CreditLineStatus.ACTIVE, CreditLineStatus.FROZEN, True) for line_id in line_ids],
    )


def _frozen_recorded(frozen: set[int], *, opened: set[int]) -> int:
    """Mark the open cases already there of the lines frozen as having frozen them, and report the freezes."""
    if frozen:
        # Only lines this run froze: their freeze is the case's to lift. A case opened now was written so.
        earlier = sorted(frozen - opened)
        if earlier:
            Case.objects.filter(credit_line_id__in=members(earlier), stage__in=OPEN_STAGES).update(froze_line=True)
        events_record((EventType.CREDIT_LINE_FROZEN, None, line_id, {}) for line_id in sorted(frozen))
    return len(frozen)


def run_batch(
    *,
    run: DunningRun,
    as_of: datetime.date,
    first_id: int,
    last_id: int,
    thresholds: dict[int, Thresholds],
    dry_run: bool = False,
) -> Tally:
    """Plan and apply the run to the credit lines with ids in ``[first_id, last_id]``, in one transaction.

    The range's lines are locked before anything is read (``accounts.locks``): a payment on one of
    them waits for the batch to commit, and the batch for a payment already in flight, so the
    batch never writes a case from bills read before a payment that has since refreshed it. A
    dry run writes nothing and locks nothing.
    """
    with transaction.atomic():
        jit_off()
        if not dry_run:
            credit_line_range_lock(first_id=first_id, last_id=last_id)
        items = worklist(as_of=as_of, first_id=first_id, last_id=last_id)
        open_cases = open_case_count(first_id=first_id, last_id=last_id)
        batch = _plan_batch(items, thresholds, as_of)
        if not dry_run:
            _apply(batch, run, as_of)
    # Open cases the worklist left out are unchanged by definition.
    skipped = open_cases - sum(1 for item in items if item.case is not None)
    batch.tally.unchanged += skipped
    batch.tally.lines_examined += skipped
    return batch.tally


def lines_apply(*, line_ids: list[int], as_of: datetime.date) -> tuple[Tally, list[int]]:
    """Apply the run's plan to these lines alone, outside any run, in one transaction; return the tally and the cases resolved.

    The same worklist, plan and writes as a batch of the night, restricted to the lines given, so
    a line gets the same answer the same day as it would get that night, in the same few statements
    whatever the number of lines. Moves keep the case's last run, as the one-case path does. Call
    it in a transaction that holds the lines' locks (``accounts.locks``), as a payment's does: a
    night batch locks its range before its read, and the two must take turns on a line.
    """
    ids = sorted(set(line_ids))
    if not ids:
        return Tally(), []
    with transaction.atomic():
        jit_off()
        items = worklist(as_of=as_of, first_id=ids[0], last_id=ids[-1], line_ids=ids)
        batch = _plan_batch(items, load_thresholds(), as_of)
        _apply(batch, None, as_of)
    return batch.tally, batch.resolved


def id_ranges(batch_size: int) -> Iterator[tuple[int, int]]:
    """Yield ``(first, last)`` id ranges covering every credit line."""
    bounds = CreditLine.objects.aggregate(first=Min("id"), last=Max("id"))
    if bounds["first"] is None:
        return
    for first in range(bounds["first"], bounds["last"] + 1, batch_size):
        yield first, min(first + batch_size - 1, bounds["last"])


def load_thresholds() -> dict[int, Thresholds]:
    """Return every policy's thresholds by id."""
    return {policy.pk: Thresholds.of(policy) for policy in DunningPolicy.objects.all()}


# A run that writes more rows than this refreshes the planner's statistics on what it wrote.
_ANALYZE_AFTER_ROWS = 10_000


def refresh_statistics(tally: Tally) -> None:
    """Vacuum and analyse what a large run wrote, so the day's reads do not pay for it.

    Autovacuum would get there eventually, but it starts right after the run, competes with
    the morning's queue reads, and until it finishes the planner thinks the case table is
    small. Inside an outer transaction (tests) VACUUM is impossible, so only ANALYZE runs.
    """
    written = tally.opened + tally.escalated_collection + tally.escalated_legal + tally.resolved + tally.holds_ended
    if connection.vendor != "postgresql" or written < _ANALYZE_AFTER_ROWS:
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {_CASE}, {_TRANSITION}")
