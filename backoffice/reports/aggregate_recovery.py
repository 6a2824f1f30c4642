"""The night's recovery step: yesterday's stage entries, how stays in a stage ended, and each cohort's day.

The night of ``as_of`` writes the day before it whole (everything about that day is in by then: its run's
stage changes, the changes people made during it, the payments of that business date):

1. ``stage_entries_write``: the cases that entered a ladder stage that day, with the overdue amount at the
   start of the day (what the run saw) and the team and agency the case is with.
2. ``stage_exits_write``: the stays in a stage that ended that day, and how (escalated; resolved and the
   payments since entry covered what was assigned, a cure by payment, or not, a re-ageing; settled; written
   off; closed).
3. ``recovery_day_write``: per cohort (entry date, stage, product, policy, team, agency), that day's entries,
   payments net of reversals, change in cases with a net collection and in cases on hold, and outcomes.

A stage change is dated by the business date of the run that made it, or by the day a person made it. A
payment belongs to the stay in a stage that the case was in on its business date; a reversal to the stay its
payment belonged to, on the reversal's own date. Each statement writes its day only if the day has no rows
yet (and ``ON CONFLICT DO NOTHING`` on its keys where a statement could meet one), so a re-run changes nothing
and the past is never restated.
"""

import dataclasses
import datetime
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction

from accounts.models import UNPAID_SQL, Bill, CreditLine, Payment, PaymentAllocation, Product
from backoffice.kernel.bulksql import jit_off
from backoffice.reports.models_recovery import RecoveryDay, StageEntry, StageExit, StageOutcome
from backoffice.reports.teams import teams_table
from cases.choices import LADDER, Stage
from cases.models import Case, CaseTransition, DunningRun

SqlParts = tuple[str, list[object]]


@dataclasses.dataclass(frozen=True)
class _Tables:
    case: str = Case._meta.db_table
    transition: str = CaseTransition._meta.db_table
    run: str = DunningRun._meta.db_table
    line: str = CreditLine._meta.db_table
    product: str = Product._meta.db_table
    bill: str = Bill._meta.db_table
    allocation: str = PaymentAllocation._meta.db_table
    payment: str = Payment._meta.db_table
    entry: str = StageEntry._meta.db_table
    exit: str = StageExit._meta.db_table
    day: str = RecoveryDay._meta.db_table


T = _Tables()
# Stage changes that end a stay in a stage (a hold pauses it; a return from a hold continues it).
_FINALS = (Stage.RESOLVED, Stage.SETTLED, Stage.WRITTEN_OFF, Stage.CLOSED)
_OUTCOME_COLUMNS = [
    ("paid", StageOutcome.PAID),
    ("reaged", StageOutcome.REAGED),
    ("settled", StageOutcome.SETTLED),
    ("written_off", StageOutcome.WRITTEN_OFF),
    ("closed", StageOutcome.CLOSED),
    ("escalated", StageOutcome.ESCALATED),
]
_DIMENSIONS = "e.entered_on, e.stage, e.product_id, e.policy_id, e.team_id, e.agency_id"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _execute(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount < 0 and connection.vendor == "sqlite":
            # Python's sqlite3 counts rows only for statements that begin INSERT, UPDATE or DELETE, not WITH.
            cursor.execute("SELECT changes()")
            return cursor.fetchone()[0]
        return max(cursor.rowcount, 0)


def day_bounds(day: datetime.date) -> list[object]:
    """Return the start and end of ``day`` in the project's time zone, as the database compares them."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return [connection.ops.adapt_datetimefield_value(moment) for moment in (start, end)]


def dated_transitions(day: datetime.date) -> SqlParts:
    """Return a derived table of the stage changes of ``day``: its runs' (by their business date) and people's."""
    sql = (
        f"(SELECT t.id, t.case_id, t.from_stage, t.to_stage FROM {T.transition} t "
        f"JOIN {T.run} r ON r.id = t.run_id WHERE r.as_of = %s "
        f"UNION ALL SELECT t.id, t.case_id, t.from_stage, t.to_stage FROM {T.transition} t "
        "WHERE t.run_id IS NULL AND t.created_at >= %s AND t.created_at < %s)"
    )
    return sql, [day, *day_bounds(day)]


def _entering(day: datetime.date) -> SqlParts:
    """Return the common table ``entering`` of the entries of ``day`` (openings, and climbs up the ladder).

    Each row has the case, the stage entered and what the statement needs of the case (line, assignee,
    agency): an opening has them in the row that says it opened, a climb from the case it is of. An opening
    enters the first stage and a climb a later one, so the two never give the same row; a climb is listed
    once however often it was made.
    """
    moves, params = dated_transitions(day)
    climbs = (
        f"SELECT DISTINCT m.case_id, m.to_stage AS stage FROM {moves} m "
        f"WHERE m.to_stage IN ({_quoted(LADDER[1:])}) AND m.from_stage IN ({_quoted(LADDER[:-1])})"
    )
    sql = (
        f"entering AS (SELECT id AS case_id, '{LADDER[0]}' AS stage, credit_line_id, assignee_id, agency_id "
        f"FROM {T.case} WHERE opened_on = %s "
        "UNION ALL SELECT c.id, n.stage, c.credit_line_id, c.assignee_id, c.agency_id "
        f"FROM ({climbs}) n JOIN {T.case} c ON c.id = n.case_id)"
    )
    return sql, [day, *params]


# Look the entering lines' bills up line by line when they are at most this share of the lines, as on
# an ordinary night (1 to 3 % of lines move); above it, as on a portfolio's first night, read the unpaid and
# lately paid bills whole. One probe costs about as much as reading a dozen bills in one pass, and a line
# has a few unpaid bills.
PROBE_SHARE = 0.1


def _overdue_at_start(day: datetime.date, *, per_line: bool) -> SqlParts:
    """Return the common table ``overdue`` of the overdue amount at the start of ``day`` of the lines entering.

    A bill is overdue when it fell due before the day; what it had received before the day is what it has
    received now less its allocations of the day and after (net: a reversal's are negative), read only for
    the few bills touched since (``last_paid_on``), as the dunning run's positions read them.

    ``per_line``: each entering line's bills are looked up by the line (its index by line and due date).
    Otherwise every bill unpaid now or touched since is read in one pass, and grouped by line: only those
    can have been short at the start of the day, and they are a small part of all the bills ever issued.
    The planner cannot count a common table's lines, so the caller chooses (``stage_entries_write``).
    """
    owed = "b.principal_due_fen + b.interest_due_fen + b.fees_due_fen"
    paid = "b.principal_paid_fen + b.interest_paid_fen + b.fees_paid_fen"
    since = (
        f"CASE WHEN b.last_paid_on >= %s THEN COALESCE((SELECT SUM(a.fees_fen + a.interest_fen + a.principal_fen) "
        f"FROM {T.allocation} a WHERE a.bill_id = b.id AND a.received_on >= %s), 0) ELSE 0 END"
    )
    short = "SUM(CASE WHEN owed > received THEN owed - received ELSE 0 END)"
    if per_line:
        sql = (
            f"overdue AS (SELECT n.credit_line_id, (SELECT {short} FROM (SELECT {owed} AS owed, {paid} - {since} "
            f"AS received FROM {T.bill} b WHERE b.credit_line_id = n.credit_line_id AND b.due_date < %s) x) "
            "AS overdue FROM (SELECT DISTINCT credit_line_id FROM entering) n)"
        )
        return sql, [day, day, day]
    sql = (
        f"overdue AS (SELECT credit_line_id, {short} AS overdue "
        f"FROM (SELECT b.credit_line_id, {owed} AS owed, {paid} - {since} AS received FROM {T.bill} b "
        f"WHERE b.due_date < %s AND ({UNPAID_SQL} OR b.last_paid_on >= %s)) x "
        "GROUP BY credit_line_id)"
    )
    return sql, [day, day, day, day]


def _few(rows_sql: str, params: list[object]) -> bool:
    """Return whether the rows of ``rows_sql`` (a query) are at most ``PROBE_SHARE`` of the lines."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({rows_sql}) r", params)
        (count,) = cursor.fetchone()
        if count == 0:
            return True
        lines = -1
        if connection.vendor == "postgresql":  # the planner's own count, free; counting 1,000,000 lines is not
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [T.line])
            (lines,) = cursor.fetchone()
        if lines < 0:  # never analysed (or SQLite)
            cursor.execute(f"SELECT COUNT(*) FROM {T.line}")
            (lines,) = cursor.fetchone()
    return count <= PROBE_SHARE * lines


def stage_entries_write(*, day: datetime.date, per_line: bool | None = None) -> int:
    """Write the cases that entered a ladder stage on ``day``, with what was assigned; return the rows written.

    No ``ON CONFLICT`` here: the day has no entries yet (or nothing is written) and ``entering`` lists each
    case and stage once, so no row can meet its key; checking each row for a conflict all the same took
    longer than inserting it (a first night enters nearly every line). The rows go in in the order of the
    table's key (case, stage), which its own index and the index by line (cases open in line order) then
    take at the right end instead of all over: on a first night, a third of the statement's time.

    ``per_line`` picks how the entering lines' bills and products are read: looked up by line, or read
    whole and hashed (``_overdue_at_start``); by default, by how many cases enter.
    """
    entering, entering_params = _entering(day)
    if per_line is None:
        per_line = _few(f"WITH {entering} SELECT 1 FROM entering", entering_params)
    overdue, overdue_params = _overdue_at_start(day, per_line=per_line)
    teams, team_params = teams_table()
    if per_line:  # each line's product looked up by its key, not the lines table read whole and hashed
        lines = f"(SELECT n.*, (SELECT l.product_id FROM {T.line} l WHERE l.id = n.credit_line_id) AS product_id FROM entering n) n"
    else:
        lines = f"(SELECT n.*, l.product_id FROM entering n JOIN {T.line} l ON l.id = n.credit_line_id) n"
    sql = (
        f"WITH {entering}, {overdue} "
        f"INSERT INTO {T.entry} (case_id, credit_line_id, stage, entered_on, product_id, policy_id, team_id, "
        "agency_id, assigned_fen) "
        "SELECT n.case_id, n.credit_line_id, n.stage, %s, n.product_id, p.policy_id, COALESCE(tm.team_id, 0), "
        "COALESCE(n.agency_id, 0), COALESCE(o.overdue, 0) "
        f"FROM {lines} JOIN {T.product} p ON p.id = n.product_id "
        f"LEFT JOIN {teams} tm ON tm.user_id = n.assignee_id AND tm.stage = n.stage "
        "LEFT JOIN overdue o ON o.credit_line_id = n.credit_line_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM {T.entry} WHERE entered_on = %s) "
        "ORDER BY n.case_id, n.stage"
    )
    params = [*entering_params, *overdue_params, day, *team_params, day]
    return _execute(sql, params)


def attributed_payments() -> str:
    """Return a derived table of payments with the date they count by: a reversal's is its payment's."""
    return (
        "(SELECT p.credit_line_id, p.received_on, p.amount_fen, COALESCE(o.received_on, p.received_on) AS counts_on "
        f"FROM {T.payment} p LEFT JOIN {T.payment} o ON o.id = p.reversal_of_id)"
    )


def _collected_before(*, ended: bool, that_day_too: bool = False) -> str:
    """Return SQL for what the stay ``e`` collected on business dates before the day (1 parameter).

    With ``ended``, the stay's end ``x`` (if it has one) bounds what counts for it; with ``that_day_too``,
    the day's own payments count as well (a payment resolves its case the same day it is posted).
    """
    until = " AND (x.left_on IS NULL OR q.counts_on < x.left_on)" if ended else ""
    before = "<=" if that_day_too else "<"
    return (
        f"COALESCE((SELECT SUM(q.amount_fen) FROM {attributed_payments()} q "
        f"WHERE q.credit_line_id = e.credit_line_id AND q.received_on {before} %s "
        f"AND q.counts_on >= e.entered_on{until}), 0)"
    )


def _outcome_sql() -> str:
    """Return SQL for how the stay ``e`` ended by the stage change ``m`` (2 parameters: the day, twice)."""
    resolved = (
        f"CASE WHEN {_collected_before(ended=False, that_day_too=True)} >= e.assigned_fen "
        f"AND {_collected_before(ended=False, that_day_too=True)} > 0 "
        f"THEN '{StageOutcome.PAID}' ELSE '{StageOutcome.REAGED}' END"
    )
    return (
        f"CASE WHEN m.to_stage IN ({_quoted(LADDER)}) THEN '{StageOutcome.ESCALATED}' "
        f"WHEN m.to_stage = '{Stage.RESOLVED}' THEN {resolved} "
        f"WHEN m.to_stage = '{Stage.SETTLED}' THEN '{StageOutcome.SETTLED}' "
        f"WHEN m.to_stage = '{Stage.WRITTEN_OFF}' THEN '{StageOutcome.WRITTEN_OFF}' "
        f"ELSE '{StageOutcome.CLOSED}' END"
    )


def stage_exits_write(*, day: datetime.date, per_move: bool | None = None) -> int:
    """Write the stays in a stage that ended on ``day``, and how; return the rows written.

    A stay ends when the case climbs from its stage, or closes (from the stage or from a hold in it), at the
    first of the day's changes that ends it: a case that climbs, is held and closes in one day ends its old stay
    by the climb, and the close, which matches every stay of the case, ends only the one it was held in. A stay
    that ended on an earlier day is left out by its key (one exit per entry, ``ON CONFLICT DO NOTHING``), not
    by an anti-join on the table being written: PostgreSQL may plan that join as a scan of the table per row,
    which re-reads every row the statement has inserted so far (minutes for a first night's exits).

    ``per_move``: each of the day's stage changes looks its case's stays up by the case (PostgreSQL, a
    lateral join), as suits an ordinary night's few thousand; otherwise the planner joins the two whole, as
    suits a first night, when most cases move. By default, by how many stage changes the day has.
    """
    moves, move_params = dated_transitions(day)
    if per_move is None:
        per_move = connection.vendor == "postgresql" and _few(f"SELECT 1 FROM {moves} m", move_params)
    ends = (
        f"m.to_stage <> '{Stage.ON_HOLD}' AND (m.from_stage = e.stage "
        f"OR (m.from_stage = '{Stage.ON_HOLD}' AND m.to_stage IN ({_quoted(_FINALS)})))"
    )
    if per_move:  # OFFSET 0 keeps the planner from flattening the lateral query back into a join
        stays = (
            f"{moves} m CROSS JOIN LATERAL (SELECT * FROM {T.entry} e WHERE e.case_id = m.case_id AND {ends} "
            "AND e.entered_on <= %s OFFSET 0) e WHERE "
        )
    else:
        stays = f"{T.entry} e JOIN {moves} m ON m.case_id = e.case_id AND {ends} WHERE e.entered_on <= %s AND "
    ranked = (
        f"SELECT e.id AS entry_id, {_outcome_sql()} AS outcome, "
        "ROW_NUMBER() OVER (PARTITION BY e.id ORDER BY m.id) AS nth "
        f"FROM {stays}NOT EXISTS (SELECT 1 FROM {T.exit} WHERE left_on = %s)"
    )
    sql = (
        f"INSERT INTO {T.exit} (entry_id, left_on, outcome) "
        f"SELECT s.entry_id, %s, s.outcome FROM ({ranked}) s WHERE s.nth = 1 ON CONFLICT DO NOTHING"
    )
    return _execute(sql, [day, day, day, *move_params, day, day])


def _measures(**values: str) -> str:
    """Return the measure columns of one kind of row, zero where ``values`` does not name them."""
    names = ["entered", "assigned_fen", "collected_fen", "collecting", "held", *(n for n, _o in _OUTCOME_COLUMNS)]
    return ", ".join(f"{values.get(name, '0')} AS {name}" for name in names)


def _entry_rows() -> str:
    """Return the day's entries summed per cohort (a first night's are nearly every line: sum them before the union)."""
    return (
        f"SELECT {_DIMENSIONS}, {_measures(entered='COUNT(*)', assigned_fen='SUM(e.assigned_fen)')} "
        f"FROM {T.entry} e WHERE e.entered_on = %s GROUP BY {_DIMENSIONS}"
    )


def _exit_rows() -> str:
    """Return the day's exits summed per cohort, by outcome."""
    outcomes = {name: f"SUM(CASE WHEN x.outcome = '{outcome}' THEN 1 ELSE 0 END)" for name, outcome in _OUTCOME_COLUMNS}
    return (
        f"SELECT {_DIMENSIONS}, {_measures(**outcomes)} FROM {T.exit} x JOIN {T.entry} e ON e.id = x.entry_id "
        f"WHERE x.left_on = %s GROUP BY {_DIMENSIONS}"
    )


def _payment_rows() -> str:
    """Return the rows of the day's payments per stay (3 parameters: the day, twice, then the day)."""
    today = (
        f"SELECT e.id AS entry_id, SUM(q.amount_fen) AS today FROM {attributed_payments()} q "
        f"JOIN {T.entry} e ON e.credit_line_id = q.credit_line_id AND e.entered_on <= q.counts_on "
        f"LEFT JOIN {T.exit} x ON x.entry_id = e.id "
        "WHERE q.received_on = %s AND (x.id IS NULL OR x.left_on > q.counts_on) GROUP BY e.id"
    )
    with_before = (
        f"SELECT g.entry_id, g.today, {_collected_before(ended=True)} AS before FROM ({today}) g "
        f"JOIN {T.entry} e ON e.id = g.entry_id LEFT JOIN {T.exit} x ON x.entry_id = e.id"
    )
    turned = "(CASE WHEN w.before + w.today > 0 THEN 1 ELSE 0 END) - (CASE WHEN w.before > 0 THEN 1 ELSE 0 END)"
    return (
        f"SELECT {_DIMENSIONS}, {_measures(collected_fen='w.today', collecting=turned)} "
        f"FROM ({with_before}) w JOIN {T.entry} e ON e.id = w.entry_id"
    )


def _hold_rows(moves: str) -> str:
    """Return the rows of the day's holds begun (+1) and ended (−1) per stay."""
    begun = f"m.to_stage = '{Stage.ON_HOLD}' AND e.stage = m.from_stage"
    lifted = (
        f"m.from_stage = '{Stage.ON_HOLD}' AND (e.stage = m.to_stage OR (m.to_stage IN ({_quoted(_FINALS)}) "
        f"AND (x.outcome IS NULL OR x.outcome <> '{StageOutcome.ESCALATED}')))"
    )
    return (
        f"SELECT {_DIMENSIONS}, {_measures(held=f'CASE WHEN {begun} THEN 1 ELSE -1 END')} "
        f"FROM {moves} m JOIN {T.entry} e ON e.case_id = m.case_id AND e.entered_on <= %s "
        f"LEFT JOIN {T.exit} x ON x.entry_id = e.id "
        f"WHERE (x.id IS NULL OR x.left_on >= %s) AND (({begun}) OR ({lifted}))"
    )


def recovery_day_write(*, day: datetime.date) -> int:
    """Write what happened on ``day`` to every cohort: entries, payments, holds and outcomes; return the rows."""
    moves, move_params = dated_transitions(day)
    sums = ", ".join(
        f"SUM({name})"
        for name in (
            "entered",
            "assigned_fen",
            "collected_fen",
            "collecting",
            "held",
            *(n for n, _o in _OUTCOME_COLUMNS),
        )
    )
    dimensions = "entered_on, stage, product_id, policy_id, team_id, agency_id"
    sql = (
        f"INSERT INTO {T.day} (day, {dimensions}, entered, assigned_fen, collected_fen, collecting, held, "
        "paid, reaged, settled, written_off, closed, escalated) "
        f"SELECT %s, {dimensions}, {sums} FROM ("
        f"{_entry_rows()} UNION ALL {_exit_rows()} UNION ALL {_payment_rows()} UNION ALL {_hold_rows(moves)}"
        f") happened WHERE NOT EXISTS (SELECT 1 FROM {T.day} WHERE day = %s) "
        f"GROUP BY {dimensions} ON CONFLICT DO NOTHING"
    )
    params = [day, day, day, day, day, *move_params, day, day, day]
    return _execute(sql, params)


def recovery_steps(*, as_of: datetime.date) -> list[tuple[str, Callable[[], int]]]:
    """Return the recovery step's statements for the night of ``as_of`` (the day before it), by name, in order."""
    day = as_of - datetime.timedelta(days=1)
    return [
        ("recovery_entries", lambda: stage_entries_write(day=day)),
        ("recovery_exits", lambda: stage_exits_write(day=day)),
        ("recovery_days", lambda: recovery_day_write(day=day)),
    ]


def recovery_aggregate(*, as_of: datetime.date) -> int:
    """Write the recovery cohorts' figures of the day before ``as_of`` (the night's step); return the rows written."""
    with transaction.atomic():
        jit_off()
        return sum(step() for _name, step in recovery_steps(as_of=as_of))
