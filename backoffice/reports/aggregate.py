"""The night's last step for the reports: what the portfolio looked like on the date, written once, set-wise.

Every night: the portfolio by product, policy, bucket, stage, team and agency (``LineDay``), and the
entry rate's observations that ripen that day (the balance due 1, 4, 8 and 31 days before, and what of
it is still unpaid). On a month's last day, also every line's month-end position, the flow from the
previous month end (``FlowCell``) and the vintage cohorts (``VintageCell``).

Each date is written whole or not at all: a statement writes its date's rows only if the date has none
yet (and ``ON CONFLICT DO NOTHING`` on their keys where a statement could meet one), so a re-run changes
nothing, a night killed half-way fills in what is missing, and a correction made later shows on later
dates only.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from accounts.models import UNPAID_SQL, Bill, CreditLine, Customer, PaymentAllocation, Product
from backoffice.kernel.bulksql import hash_grouping, jit_off, sort_memory_raise, values_table
from backoffice.reports.aggregate_compliance import compliance_days_write
from backoffice.reports.aggregate_letters import letters_steps
from backoffice.reports.aggregate_people import people_write_for_night
from backoffice.reports.aggregate_recovery import recovery_steps
from backoffice.reports.models import (
    BUCKET_UPPER_DPD,
    EntryObservation,
    FlowCell,
    LineDay,
    MonthEndPosition,
    VintageCell,
)
from backoffice.reports.teams import teams_table
from cases.choices import OPEN_STAGES
from cases.models import Case

# The days after a due date at which the entry rate's follow-through is read (DPD1 is the entry rate itself).
ENTRY_DAYS = (1, 4, 8, 31)


@dataclass(frozen=True)
class _Tables:
    line: str = CreditLine._meta.db_table
    product: str = Product._meta.db_table
    bill: str = Bill._meta.db_table
    customer: str = Customer._meta.db_table
    case: str = Case._meta.db_table
    line_day: str = LineDay._meta.db_table
    position: str = MonthEndPosition._meta.db_table
    flow: str = FlowCell._meta.db_table
    vintage: str = VintageCell._meta.db_table
    entry: str = EntryObservation._meta.db_table
    allocation: str = PaymentAllocation._meta.db_table


T = _Tables()


def _bucket_sql(dpd: str = "COALESCE(c.days_past_due, 0)", *, charged_off: bool = True) -> str:
    """Return SQL for a line's bucket, from its status and days past due (its open case's, by default)."""
    steps = " ".join(f"WHEN {dpd} <= {upper} THEN '{name}'" for name, upper in BUCKET_UPPER_DPD)
    status = "WHEN l.status = 'charged_off' THEN 'CO' " if charged_off else ""
    return f"CASE {status}{steps} ELSE 'M7' END"


def _open_stages() -> str:
    return ", ".join(f"'{stage}'" for stage in OPEN_STAGES)


def _principal_sql() -> str:
    """Return a derived table of each line's outstanding principal (all its bills, due or not).

    Only unpaid bills can owe principal (a bill never holds more than is due), and the unpaid ones have
    their own index: a small part of all the bills ever issued, which the night would otherwise read whole.
    A line with none is missing here, which every reader takes as no principal.
    """
    return (
        f"(SELECT b.credit_line_id, SUM(b.principal_due_fen - b.principal_paid_fen) AS principal "
        f"FROM {T.bill} b WHERE {UNPAID_SQL} GROUP BY b.credit_line_id)"
    )


def _lines_sql(team_table: str) -> str:
    """Return the FROM part every line-level statement shares: each live line, its open case, principal, team."""
    return (
        f"FROM {T.line} l JOIN {T.product} p ON p.id = l.product_id "
        f"LEFT JOIN {T.case} c ON c.credit_line_id = l.id AND c.stage IN ({_open_stages()}) "
        f"LEFT JOIN {_principal_sql()} b ON b.credit_line_id = l.id "
        f"LEFT JOIN {team_table} tm ON tm.user_id = c.assignee_id AND tm.stage = c.stage "
        "WHERE l.status IN ('active', 'frozen', 'charged_off')"
    )


def _execute(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def line_days_write(*, as_of: datetime.date) -> int:
    """Write the portfolio of ``as_of`` by product, policy, bucket, stage, team and agency; return the rows written."""
    team_table, team_params = teams_table()
    sql = (
        f"INSERT INTO {T.line_day} (as_of, product_id, policy_id, bucket, stage, team_id, agency_id, lines, "
        "principal_fen, overdue_fen) "
        f"SELECT %s, l.product_id, p.policy_id, {_bucket_sql()}, COALESCE(c.stage, ''), COALESCE(tm.team_id, 0), "
        "COALESCE(c.agency_id, 0), COUNT(*), COALESCE(SUM(b.principal), 0), COALESCE(SUM(c.balance_fen), 0) "
        f"{_lines_sql(team_table)} "
        f"AND NOT EXISTS (SELECT 1 FROM {T.line_day} WHERE as_of = %s) "
        "GROUP BY l.product_id, p.policy_id, 4, 5, 6, 7 "
        "ON CONFLICT DO NOTHING"
    )
    with hash_grouping():  # a few dozen groups of the whole portfolio, estimated at about one per line
        return _execute(sql, [as_of, *team_params, as_of])


def is_month_end(day: datetime.date) -> bool:
    """Return whether ``day`` is the last day of its month."""
    return (day + datetime.timedelta(days=1)).month != day.month


def previous_month_end(day: datetime.date) -> datetime.date:
    """Return the last day of the month before ``day``'s."""
    return day.replace(day=1) - datetime.timedelta(days=1)


def _opened_month_sql() -> str:
    if connection.vendor == "postgresql":
        return "date_trunc('month', l.opened_on)::date"
    return "date(l.opened_on, 'start of month')"


def positions_write(*, month_end: datetime.date) -> int:
    """Write every line's position at ``month_end`` (its bucket and balances); return the rows written.

    No ``ON CONFLICT``: the month end has no positions yet (or nothing is written) and each line comes once
    (one open case per line, one team per agent and stage), so no row can meet the key; checking each of
    the portfolio's rows for a conflict all the same cost more than inserting it.
    """
    team_table, team_params = teams_table()
    sql = (
        f"INSERT INTO {T.position} (month_end, credit_line_id, product_id, opened_month, bucket, principal_fen, "
        "overdue_fen, team_id, agency_id) "
        f"SELECT %s, l.id, l.product_id, {_opened_month_sql()}, {_bucket_sql()}, COALESCE(b.principal, 0), "
        "COALESCE(c.balance_fen, 0), COALESCE(tm.team_id, 0), COALESCE(c.agency_id, 0) "
        f"{_lines_sql(team_table)} AND l.opened_on <= %s "
        f"AND NOT EXISTS (SELECT 1 FROM {T.position} WHERE month_end = %s)"
    )
    return _execute(sql, [month_end, *team_params, month_end, month_end])


def _days_since_sql(day_param: str, earlier: str) -> str:
    """Return SQL for the days from ``earlier`` (a date column or expression) to the date bound at ``day_param``."""
    if connection.vendor == "postgresql":
        return f"({day_param}::date - {earlier})"
    return f"CAST(julianday({day_param}) - julianday({earlier}) AS INTEGER)"


def positions_from_history(*, month_end: datetime.date) -> int:
    """Write every line's position at a past ``month_end`` from the ledger's history; return the rows written.

    For a month end no night saw (the history from before the product ran, the demo's past): what a
    bill had received by then is the sum of its allocations received on or before the date, so days
    past due, the overdue amount and the outstanding principal are that day's, whatever was paid since.
    Bills are counted from a month before they fall due (statements come out weeks ahead).
    """
    paid_by = (
        "SELECT b.credit_line_id, b.due_date, b.principal_due_fen + b.interest_due_fen + b.fees_due_fen AS owed, "
        "b.principal_due_fen AS principal_owed, COALESCE(SUM(a.principal_fen + a.interest_fen + a.fees_fen), 0) AS paid, "
        "COALESCE(SUM(a.principal_fen), 0) AS principal_paid "
        f"FROM {T.bill} b LEFT JOIN {T.allocation} a ON a.bill_id = b.id AND a.received_on <= %s "
        "WHERE b.due_date <= %s "
        "GROUP BY b.id, b.credit_line_id, b.due_date, b.principal_due_fen, b.interest_due_fen, b.fees_due_fen"
    )
    unpaid_due = "x.due_date <= %s AND x.owed > x.paid"
    per_line = (
        f"SELECT x.credit_line_id, {_days_since_sql('%s', f'MIN(CASE WHEN {unpaid_due} THEN x.due_date END)')} AS dpd, "
        f"SUM(CASE WHEN {unpaid_due} THEN x.owed - x.paid ELSE 0 END) AS overdue, "
        f"SUM(x.principal_owed - x.principal_paid) AS principal FROM ({paid_by}) x GROUP BY x.credit_line_id"
    )
    sql = (
        f"INSERT INTO {T.position} (month_end, credit_line_id, product_id, opened_month, bucket, principal_fen, "
        "overdue_fen) "
        f"SELECT %s, l.id, l.product_id, {_opened_month_sql()}, {_bucket_sql('COALESCE(h.dpd, 0)', charged_off=False)}, "
        "h.principal, h.overdue "
        f"FROM {T.line} l JOIN ({per_line}) h ON h.credit_line_id = l.id "
        f"WHERE l.opened_on <= %s AND NOT EXISTS (SELECT 1 FROM {T.position} WHERE month_end = %s) "
        "ON CONFLICT DO NOTHING"
    )
    booked_by = month_end + datetime.timedelta(days=31)
    # In the order the placeholders come: the select, then the per-line days, unpaid test twice, the bills, the lines.
    params = [month_end, month_end, month_end, month_end, month_end, booked_by, month_end, month_end]
    return _execute(sql, params)


def flow_write(*, month_end: datetime.date) -> int:
    """Write the flow from the previous month end's buckets to this one's, by product and by the team and agency
    that held the line then; return the rows written.

    A line at the previous month end and gone since (closed, paid off) has flowed to M0. The
    principal is the previous month end's: the balance that flowed.
    """
    sql = (
        f"INSERT INTO {T.flow} (month_end, product_id, team_id, agency_id, from_bucket, to_bucket, lines, "
        "principal_fen) "
        "SELECT %s, a.product_id, a.team_id, a.agency_id, a.bucket, COALESCE(z.bucket, 'M0'), COUNT(*), "
        "SUM(a.principal_fen) "
        f"FROM {T.position} a LEFT JOIN {T.position} z ON z.credit_line_id = a.credit_line_id AND z.month_end = %s "
        "WHERE a.month_end = %s GROUP BY a.product_id, a.team_id, a.agency_id, a.bucket, COALESCE(z.bucket, 'M0') "
        "ON CONFLICT DO NOTHING"
    )
    return _execute(sql, [month_end, month_end, previous_month_end(month_end)])


def _months_on_book_sql() -> str:
    if connection.vendor == "postgresql":
        return (
            "((EXTRACT(YEAR FROM month_end) - EXTRACT(YEAR FROM opened_month)) * 12 "
            "+ EXTRACT(MONTH FROM month_end) - EXTRACT(MONTH FROM opened_month))::int"
        )
    return (
        "((CAST(strftime('%%Y', month_end) AS INTEGER) - CAST(strftime('%%Y', opened_month) AS INTEGER)) * 12 "
        "+ CAST(strftime('%%m', month_end) AS INTEGER) - CAST(strftime('%%m', opened_month) AS INTEGER))"
    )


def vintage_write(*, month_end: datetime.date) -> int:
    """Write each origination month's cohort at ``month_end`` by bucket and months on book; return the rows written."""
    months = _months_on_book_sql()
    sql = (
        f"INSERT INTO {T.vintage} (opened_month, months_on_book, product_id, bucket, lines, principal_fen) "
        f"SELECT opened_month, {months}, product_id, bucket, COUNT(*), SUM(principal_fen) "
        f"FROM {T.position} WHERE month_end = %s GROUP BY opened_month, {months}, product_id, bucket "
        "ON CONFLICT DO NOTHING"
    )
    return _execute(sql, [month_end])


def entry_write(*, as_of: datetime.date) -> int:
    """Write the entry rate's observations that ripen on ``as_of``; return the rows written.

    For bills due ``d`` days before (d in 1, 4, 8, 31): the balance due and what of it is unpaid now,
    by product and by whether the customer had an earlier bill (repeat) or not (new). The four due dates
    are read in one statement, each written only if it has no observations yet: the lines are joined once
    for all four instead of once each.
    """
    unpaid = (
        "(b.principal_due_fen + b.interest_due_fen + b.fees_due_fen "
        "- b.principal_paid_fen - b.interest_paid_fen - b.fees_paid_fen)"
    )
    repeat = (
        f"EXISTS (SELECT 1 FROM {T.bill} e JOIN {T.line} el ON el.id = e.credit_line_id "
        "WHERE el.customer_id = l.customer_id AND e.due_date < b.due_date)"
    )
    ripening, ripening_params = values_table(
        [("due_on", "date"), ("days_after", "integer")],
        [(as_of - datetime.timedelta(days=days), days) for days in ENTRY_DAYS],
    )
    sql = (
        f"INSERT INTO {T.entry} (due_on, days_after, product_id, repeat, bills, due_fen, unpaid_fen) "
        "SELECT due_on, days_after, product_id, is_repeat, COUNT(*), SUM(due), "
        "SUM(CASE WHEN unpaid > 0 THEN unpaid ELSE 0 END) "
        f"FROM (SELECT w.due_on, w.days_after, l.product_id, {repeat} AS is_repeat, "
        f"b.principal_due_fen + b.interest_due_fen + b.fees_due_fen AS due, {unpaid} AS unpaid "
        f"FROM {ripening} w JOIN {T.bill} b ON b.due_date = w.due_on JOIN {T.line} l ON l.id = b.credit_line_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM {T.entry} o WHERE o.due_on = w.due_on AND o.days_after = w.days_after)"
        ") due_that_day "
        "GROUP BY due_on, days_after, product_id, is_repeat "
        "ON CONFLICT DO NOTHING"
    )
    return _execute(sql, ripening_params)


def aggregate_steps(*, as_of: datetime.date) -> list[tuple[str, Callable[[], int]]]:
    """Return the night's statements for ``as_of`` by name, in the order they run (the benchmark times each)."""
    steps = [
        ("line_days", lambda: line_days_write(as_of=as_of)),
        ("entry_rate", lambda: entry_write(as_of=as_of)),
        ("compliance", lambda: compliance_days_write(as_of=as_of, teams=teams_table())),
        *recovery_steps(as_of=as_of),
        *letters_steps(as_of=as_of),
        ("people", lambda: people_write_for_night(as_of=as_of)),
    ]
    return [*steps, *month_end_steps(month_end=as_of)] if is_month_end(as_of) else steps


def month_end_steps(*, month_end: datetime.date) -> list[tuple[str, Callable[[], int]]]:
    """Return the statements a month's last night adds, by name, in order: positions, then flow and vintage."""
    return [
        ("positions", lambda: positions_write(month_end=month_end)),
        ("flow", lambda: flow_write(month_end=month_end)),
        ("vintage", lambda: vintage_write(month_end=month_end)),
    ]


def reports_aggregate(*, as_of: datetime.date) -> int:
    """Write everything the reports read for ``as_of``, in one transaction; return the rows written."""
    with transaction.atomic():
        jit_off()
        sort_memory_raise()
        return sum(step() for _name, step in aggregate_steps(as_of=as_of))
