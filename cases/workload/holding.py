"""Who held a case when, and each case's events with the holder they belong to.

A case's holder at an instant is an agent, by the assignment record (``CaseAssignment``: the last
assignment at or before the instant; before the first, whoever that one took the case from; with no
record at all, the assignee), and an agency, by the placement record (``Placement``: placed at or
before the instant and not yet recalled). 0 stands for nobody and for no agency. An agent's team is
the team of the case's stage they belong to (on hold: the stage it left), or else the first team
they belong to.

The people report sums these rows by day and holder, and the case list's drill-down lists the cases
behind each sum: both read the SQL below, so the two cannot disagree. Every source yields the same
columns (``COLUMNS`` then ``MEASURES``), so they can be stacked with ``UNION ALL``.

Days are business days in ``TIME_ZONE``. An event that is recorded after its day (a payment or a
contact imported the next morning) counts on the day it was recorded, so that each counts once and
none is lost: a day already written is never restated.
"""

import dataclasses
import datetime
import zoneinfo

from django.conf import settings
from django.db import connection

from accounts.models import CreditLine, Payment
from backoffice.kernel.bulksql import values_table
from cases.agencies.models import Placement
from cases.casework.models import Case
from cases.choices import REACHED_OUTCOMES, ContactParty, Stage
from cases.contacts.models import Contact
from cases.promises.models import Promise
from cases.workload.models import CaseAssignment, Team

COLUMNS = ("case_id", "product_id", "agent_id", "agency_id", "work_stage")
MEASURES = (
    "cases_in_hand",
    "in_hand_fen",
    "never_contacted",
    "taken_in",
    "taken_in_fen",
    "collected_fen",
    "reversed_fen",
    "contacts",
    "right_party_contacts",
    "first_contacts",
    "first_contact_seconds",
    "promises_made",
    "promises_due",
    "promises_kept",
)


@dataclasses.dataclass(frozen=True)
class _Tables:
    case: str = Case._meta.db_table
    line: str = CreditLine._meta.db_table
    assignment: str = CaseAssignment._meta.db_table
    placement: str = Placement._meta.db_table
    contact: str = Contact._meta.db_table
    promise: str = Promise._meta.db_table
    payment: str = Payment._meta.db_table


T = _Tables()


@dataclasses.dataclass(frozen=True)
class Period:
    """Business days ``first`` to ``last``, both included, and the instants that bound them."""

    first: datetime.date
    last: datetime.date

    @property
    def start(self) -> datetime.datetime:
        """Return the instant the first day begins."""
        return _midnight(self.first)

    @property
    def end(self) -> datetime.datetime:
        """Return the instant the last day ends (the next day's midnight)."""
        return _midnight(self.last + datetime.timedelta(days=1))


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _instant(value: datetime.datetime) -> object:
    """Return an instant as the database compares it (SQLite keeps UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _instant_param() -> str:
    return "CAST(%s AS timestamp with time zone)" if connection.vendor == "postgresql" else "%s"


def _greatest(values: list[str]) -> str:
    """Return SQL for the greatest of ``values``, none of which may be NULL."""
    return f"{'GREATEST' if connection.vendor == 'postgresql' else 'MAX'}({', '.join(values)})"


def _seconds_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier}))) AS bigint)"
    return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"


def agent_at_sql(case: str, at: str) -> str:
    """Return SQL for the agent who held case ``case`` at ``at`` (both SQL expressions): a user id, 0 for nobody."""
    return (
        f"COALESCE((SELECT COALESCE(h_a.assigned_to_id, 0) FROM {T.assignment} h_a "
        f"WHERE h_a.case_id = {case} AND h_a.assigned_at <= {at} ORDER BY h_a.assigned_at DESC, h_a.id DESC LIMIT 1), "
        f"(SELECT COALESCE(h_a.assigned_from_id, 0) FROM {T.assignment} h_a "
        f"WHERE h_a.case_id = {case} AND h_a.assigned_at > {at} ORDER BY h_a.assigned_at, h_a.id LIMIT 1), "
        f"(SELECT COALESCE(h_k.assignee_id, 0) FROM {T.case} h_k WHERE h_k.id = {case}))"
    )


def agency_at_sql(case: str, at: str) -> str:
    """Return SQL for the agency that held case ``case`` at ``at``: an agency id, 0 for none."""
    return (
        f"COALESCE((SELECT h_p.agency_id FROM {T.placement} h_p WHERE h_p.case_id = {case} "
        f"AND h_p.placed_at <= {at} AND (h_p.recalled_at IS NULL OR h_p.recalled_at > {at}) "
        "ORDER BY h_p.placed_at DESC LIMIT 1), 0)"
    )


def held_since_sql(case: str, opened_at: str, at: str) -> str:
    """Return SQL for when the holder at ``at`` took the case: the last opening, assignment, placement or recall."""
    changes = [
        f"(SELECT MAX(h_a.assigned_at) FROM {T.assignment} h_a WHERE h_a.case_id = {case} AND h_a.assigned_at <= {at})",
        f"(SELECT MAX(h_p.placed_at) FROM {T.placement} h_p WHERE h_p.case_id = {case} AND h_p.placed_at <= {at})",
        f"(SELECT MAX(h_p.recalled_at) FROM {T.placement} h_p WHERE h_p.case_id = {case} AND h_p.recalled_at <= {at})",
    ]
    return _greatest([opened_at, *(f"COALESCE({change}, {opened_at})" for change in changes)])


def _work_stage(case: str) -> str:
    return f"CASE WHEN {case}.stage = '{Stage.ON_HOLD}' THEN {case}.held_from_stage ELSE {case}.stage END"


def _open_at(case: str, at: str) -> str:
    return f"{case}.opened_at <= {at} AND ({case}.closed_at IS NULL OR {case}.closed_at > {at})"


def _select(keys: dict[str, str], measures: dict[str, str]) -> str:
    """Return the select list every source shares: its keys, then each measure (0 where the source has none)."""
    parts = [f"{keys[name]} AS {name}" for name in COLUMNS]
    parts += [f"{measures.get(name, '0')} AS {name}" for name in MEASURES]
    return ", ".join(parts)


def _holder(case: str, at: str, product: str, stage: str) -> dict[str, str]:
    return {
        "case_id": case,
        "product_id": product,
        "agent_id": agent_at_sql(case, at),
        "agency_id": agency_at_sql(case, at),
        "work_stage": stage,
    }


def _at_table(at: datetime.datetime) -> tuple[str, list[object]]:
    return f"(SELECT {_instant_param()} AS at_) w", [_instant(at)]


def _ranked(select: str, table: str, order: str, condition: str, at: datetime.datetime) -> tuple[str, list[object]]:
    """Return a derived table of ``table``'s rows meeting ``condition`` at ``at``, numbered per case in ``order``."""
    window, params = _at_table(at)
    sql = (
        f"(SELECT r.case_id, {select}, ROW_NUMBER() OVER (PARTITION BY r.case_id ORDER BY {order}) AS rank_ "
        f"FROM {table} r CROSS JOIN {window} WHERE {condition})"
    )
    return sql, params


def _holders_at(at: datetime.datetime) -> tuple[list[str], list[object]]:
    """Return the joins that give each case its holders' records at ``at``, each window read once.

    ``b`` is the last assignment at or before ``at``, ``f`` the first after it, ``p`` the placement
    in force and ``h`` the last change (assignment, placement or recall) up to ``at``: the rule of
    ``agent_at_sql``, ``agency_at_sql`` and ``held_since_sql``, set-wise.
    """
    parts = [
        _ranked(
            "COALESCE(r.assigned_to_id, 0) AS agent_id",
            T.assignment,
            "r.assigned_at DESC, r.id DESC",
            "r.assigned_at <= w.at_",
            at,
        ),
        _ranked(
            "COALESCE(r.assigned_from_id, 0) AS agent_id",
            T.assignment,
            "r.assigned_at, r.id",
            "r.assigned_at > w.at_",
            at,
        ),
        _ranked(
            "r.agency_id",
            T.placement,
            "r.placed_at DESC, r.id DESC",
            "r.placed_at <= w.at_ AND (r.recalled_at IS NULL OR r.recalled_at > w.at_)",
            at,
        ),
    ]
    window, window_params = _at_table(at)
    changes = (
        f"(SELECT x.case_id, MAX(x.changed_at) AS changed_at FROM ("
        f"SELECT r.case_id, r.assigned_at AS changed_at FROM {T.assignment} r CROSS JOIN {window} "
        "WHERE r.assigned_at <= w.at_ "
        f"UNION ALL SELECT r.case_id, r.placed_at FROM {T.placement} r CROSS JOIN {window} WHERE r.placed_at <= w.at_ "
        f"UNION ALL SELECT r.case_id, r.recalled_at FROM {T.placement} r CROSS JOIN {window} "
        "WHERE r.recalled_at <= w.at_) x GROUP BY x.case_id)"
    )
    joins = [
        f"LEFT JOIN {parts[0][0]} b ON b.case_id = c.id AND b.rank_ = 1",
        f"LEFT JOIN {parts[1][0]} f ON f.case_id = c.id AND f.rank_ = 1",
        f"LEFT JOIN {parts[2][0]} p ON p.case_id = c.id AND p.rank_ = 1",
        f"LEFT JOIN {changes} h ON h.case_id = c.id",
    ]
    return joins, [*parts[0][1], *parts[1][1], *parts[2][1], *window_params * 3]


def in_hand_sql(day: datetime.date) -> tuple[str, list[object]]:
    """Return the cases open at the end of ``day``, each with its holder then, balance and whether anyone reached it.

    ``taken_in`` says the holder took the case that day; the balance is the overdue balance as the
    night after the day left it. The holder's records are joined once per case (``_holders_at``),
    not looked up by a subquery each.
    """
    period = Period(day, day)
    joins, join_params = _holders_at(period.end)
    taken = "CASE WHEN COALESCE(h.changed_at, c.opened_at) >= w.start_ OR c.opened_at >= w.start_ THEN 1 ELSE 0 END"
    never = (
        f"CASE WHEN EXISTS (SELECT 1 FROM {T.contact} h_c WHERE h_c.case_id = c.id "
        "AND h_c.occurred_at < w.at_ AND h_c.recorded_at < w.at_) THEN 0 ELSE 1 END"
    )
    measures = {
        "cases_in_hand": "1",
        "in_hand_fen": "c.balance_fen",
        "never_contacted": never,
        "taken_in": taken,
        "taken_in_fen": f"{taken} * c.balance_fen",
    }
    keys = {
        "case_id": "c.id",
        "product_id": "l.product_id",
        "agent_id": "COALESCE(b.agent_id, f.agent_id, COALESCE(c.assignee_id, 0))",
        "agency_id": "COALESCE(p.agency_id, 0)",
        "work_stage": _work_stage("c"),
    }
    sql = (
        f"SELECT {_select(keys, measures)} "
        f"FROM (SELECT {_instant_param()} AS at_, {_instant_param()} AS start_) w "
        f"CROSS JOIN {T.case} c JOIN {T.line} l ON l.id = c.credit_line_id {' '.join(joins)} "
        f"WHERE {_open_at('c', 'w.at_')}"
    )
    return sql, [_instant(period.end), _instant(period.start), *join_params]


def _days_table(period: Period) -> tuple[str, list[object]]:
    """Return a derived table of the period's days, each with the instant it begins (``start_``) and ends (``at_``)."""
    rows, day = [], period.first
    while day <= period.last:
        following = day + datetime.timedelta(days=1)
        rows.append((_instant(_midnight(day)), _instant(_midnight(following))))
        day = following
    column_type = "timestamptz" if connection.vendor == "postgresql" else "text"
    return values_table([("start_", column_type), ("at_", column_type)], rows)


def taken_in_sql(period: Period) -> tuple[str, list[object]]:
    """Return, for each day of ``period``, the cases open at its end that their holder then took that day.

    The holder took the case that day when the last opening, assignment, placement or recall up to the
    day's end falls on the day (as ``taken_in`` of the cases in hand reads it): one of them falls on it.
    """
    days, params = _days_table(period)
    change_on_day = " OR ".join(
        [
            "c.opened_at >= w.start_",
            f"EXISTS (SELECT 1 FROM {T.assignment} h_a WHERE h_a.case_id = c.id "
            "AND h_a.assigned_at >= w.start_ AND h_a.assigned_at <= w.at_)",
            f"EXISTS (SELECT 1 FROM {T.placement} h_p WHERE h_p.case_id = c.id "
            "AND h_p.placed_at >= w.start_ AND h_p.placed_at <= w.at_)",
            f"EXISTS (SELECT 1 FROM {T.placement} h_p WHERE h_p.case_id = c.id "
            "AND h_p.recalled_at >= w.start_ AND h_p.recalled_at <= w.at_)",
        ]
    )
    sql = (
        f"SELECT {_select(_holder('c.id', 'w.at_', 'l.product_id', _work_stage('c')), {'taken_in': '1'})} "
        f"FROM {days} w JOIN {T.case} c ON {_open_at('c', 'w.at_')} JOIN {T.line} l ON l.id = c.credit_line_id "
        f"WHERE {change_on_day}"
    )
    return sql, params


def assigned_sql(period: Period) -> tuple[str, list[object]]:
    """Return the cases assigned over ``period``: those in hand at the end of the day before, and those taken in it."""
    before, before_params = in_hand_sql(period.first - datetime.timedelta(days=1))
    taken, taken_params = taken_in_sql(period)
    return f"{before} UNION ALL {taken}", [*before_params, *taken_params]


def _counted(happened: str, recorded: str) -> str:
    """Return the condition that an event counts in the period ``w``: by its day, or by its recording if later."""
    return f"{recorded} < w.end_ AND {happened} < w.end_ AND ({happened} >= w.start_ OR {recorded} >= w.start_)"


def _window(period: Period) -> tuple[str, list[object]]:
    instant = _instant_param()
    return f"(SELECT {instant} AS start_, {instant} AS end_) w", [_instant(period.start), _instant(period.end)]


def payments_sql(period: Period) -> tuple[str, list[object]]:
    """Return the payments and reversals counted in ``period``, each on the case open when its money came in.

    A reversal is counted on its own day, negative, for whoever held the case when the payment it
    takes back came in: money that did not stay was collected by nobody, whenever it went back.
    Payments on a line with no open case (current lines) were collected by nobody and are left out.
    """
    window, params = _window(period)
    case_of = (
        f"(SELECT k.id FROM {T.case} k WHERE k.credit_line_id = p.credit_line_id AND {_open_at('k', 'p.came_at')} "
        "ORDER BY k.opened_at DESC, k.id DESC LIMIT 1)"
    )
    payments = (
        f"SELECT pay.amount_fen, pay.reversal_of_id, pay.credit_line_id, COALESCE(o.received_at, pay.received_at) AS came_at "
        f"FROM {window} CROSS JOIN {T.payment} pay LEFT JOIN {T.payment} o ON o.id = pay.reversal_of_id "
        f"WHERE pay.received_on <= %s AND {_counted('pay.received_at', 'pay.recorded_at')}"
    )
    measures = {
        "collected_fen": "CASE WHEN e.reversal_of_id IS NULL THEN e.amount_fen ELSE 0 END",
        "reversed_fen": "CASE WHEN e.reversal_of_id IS NULL THEN 0 ELSE e.amount_fen END",
    }
    sql = (
        f"SELECT {_select(_holder('e.case_id', 'e.came_at', 'l.product_id', _work_stage('c')), measures)} "
        f"FROM (SELECT p.*, {case_of} AS case_id FROM ({payments}) p) e "
        f"JOIN {T.case} c ON c.id = e.case_id JOIN {T.line} l ON l.id = c.credit_line_id"
    )
    return sql, [*params, period.last]


def contacts_sql(period: Period) -> tuple[str, list[object]]:
    """Return the contacts counted in ``period`` with their holder when made, right-party and first-contact flags.

    A right-party contact reached the customer in person (party customer, an outcome in which someone
    was reached). A first contact is the holder's first on the case since they took it, and carries
    the seconds from their taking it to the contact.
    """
    window, params = _window(period)
    held_since = held_since_sql("x.case_id", "c.opened_at", "x.occurred_at")
    earlier = (
        f"EXISTS (SELECT 1 FROM {T.contact} y WHERE y.case_id = x.case_id AND y.occurred_at >= {held_since} "
        "AND (y.occurred_at < x.occurred_at OR (y.occurred_at = x.occurred_at AND y.id < x.id)))"
    )
    reached = ", ".join(f"'{outcome}'" for outcome in REACHED_OUTCOMES)
    first = f"CASE WHEN {earlier} THEN 0 ELSE 1 END"
    measures = {
        "contacts": "1",
        "right_party_contacts": f"CASE WHEN x.party = '{ContactParty.CUSTOMER}' AND x.outcome IN ({reached}) "
        "THEN 1 ELSE 0 END",
        "first_contacts": first,
        "first_contact_seconds": f"{first} * {_seconds_between('x.occurred_at', held_since)}",
    }
    sql = (
        f"SELECT {_select(_holder('x.case_id', 'x.occurred_at', 'l.product_id', _work_stage('c')), measures)} "
        f"FROM {window} CROSS JOIN {T.contact} x JOIN {T.case} c ON c.id = x.case_id "
        f"JOIN {T.line} l ON l.id = c.credit_line_id WHERE {_counted('x.occurred_at', 'x.recorded_at')}"
    )
    return sql, params


def promises_sql(period: Period) -> tuple[str, list[object]]:
    """Return the promises made in ``period`` or falling due in it, for the holder when each was made.

    A promise is kept on its date when the payments on the line recorded since it was made, received
    by the promised date and recorded by that day's end, cover its amount; a payment reversed by then
    and the reversals themselves count for nothing (as the judging of promises reads payments).
    """
    window, params = _window(period)
    paid = (
        f"(SELECT COALESCE(SUM(q.amount_fen), 0) FROM {T.payment} q WHERE q.credit_line_id = c.credit_line_id "
        "AND q.reversal_of_id IS NULL AND q.recorded_at >= x.created_at AND q.received_on <= x.due_date "
        "AND q.recorded_at < x.due_end "
        f"AND NOT EXISTS (SELECT 1 FROM {T.payment} r WHERE r.reversal_of_id = q.id AND r.recorded_at < x.due_end))"
    )
    due = "CASE WHEN x.due_date >= %s AND x.due_date <= %s THEN 1 ELSE 0 END"
    measures = {
        "promises_made": "CASE WHEN x.created_at >= w.start_ AND x.created_at < w.end_ THEN 1 ELSE 0 END",
        "promises_due": due,
        "promises_kept": f"CASE WHEN x.due_date >= %s AND x.due_date <= %s AND {paid} >= x.amount_fen THEN 1 ELSE 0 END",
    }
    sql = (
        f"SELECT {_select(_holder('x.case_id', 'x.created_at', 'l.product_id', _work_stage('c')), measures)} "
        f"FROM {window} CROSS JOIN (SELECT pr.*, {_due_end_sql()} AS due_end FROM {T.promise} pr) x "
        f"JOIN {T.case} c ON c.id = x.case_id JOIN {T.line} l ON l.id = c.credit_line_id "
        "WHERE (x.created_at >= w.start_ AND x.created_at < w.end_) OR (x.due_date >= %s AND x.due_date <= %s)"
    )
    days = [period.first, period.last]
    # In the order the placeholders come: the select list's two date tests, the window, the WHERE.
    return sql, [*days, *days, *params, *days]


def _due_end_sql() -> str:
    """Return SQL for the instant a promise's date ends, in ``TIME_ZONE`` (the next day's midnight)."""
    offset = _midnight(datetime.date(2000, 1, 1)).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    if connection.vendor == "postgresql":
        return f"(CAST(pr.due_date + 1 AS timestamp) AT TIME ZONE '{settings.TIME_ZONE}')"
    return f"datetime(pr.due_date, '+1 day', '{-hours:+d} hours')"


def team_table() -> tuple[str, list[object]]:
    """Return a derived table of (user_id, stage, team_id) for every team member and stage: the team rule above."""
    by_stage: dict[tuple[int, str], int] = {}
    first: dict[int, int] = {}
    for team in Team.objects.prefetch_related("members").order_by("pk"):
        for member in team.members.all():
            by_stage.setdefault((member.pk, team.stage), team.pk)
            first.setdefault(member.pk, team.pk)
    rows = [(user, stage, by_stage.get((user, stage), team)) for user, team in first.items() for stage in Stage.values]
    return values_table([("user_id", "bigint"), ("stage", "text"), ("team_id", "bigint")], rows)


def with_team_sql(source: str, params: list[object]) -> tuple[str, list[object]]:
    """Return the rows of ``source`` with the holder's team (``team_id``, 0 for none) beside its columns."""
    teams, team_params = team_table()
    sql = (
        f"SELECT e.*, COALESCE(tm.team_id, 0) AS team_id FROM ({source}) e "
        f"LEFT JOIN {teams} tm ON tm.user_id = e.agent_id AND tm.stage = e.work_stage"
    )
    return sql, [*params, *team_params]


def day_sources(day: datetime.date) -> tuple[str, list[object]]:
    """Return every source for one day stacked: the cases in hand at its end and the day's events."""
    period = Period(day, day)
    parts = [in_hand_sql(day), payments_sql(period), contacts_sql(period), promises_sql(period)]
    return " UNION ALL ".join(sql for sql, _params in parts), [p for _sql, params in parts for p in params]


# What each drillable figure of the people report counts: its source, and the rows of it that count.
FIGURES = {
    "in_hand": ("in_hand", "1 = 1"),
    "assigned": ("assigned", "1 = 1"),
    "never_contacted": ("in_hand", "e.never_contacted = 1"),
    "collected": ("payments", "1 = 1"),
    "contacts": ("contacts", "1 = 1"),
    "right_party": ("contacts", "e.right_party_contacts = 1"),
    "first_contacts": ("contacts", "e.first_contacts = 1"),
    "promises_made": ("promises", "e.promises_made = 1"),
    "promises_kept": ("promises", "e.promises_kept = 1"),
}
HOLDER_KEYS = {"a": "agent_id", "t": "team_id", "g": "agency_id"}


def _source(kind: str, period: Period) -> tuple[str, list[object]]:
    if kind == "in_hand":
        return in_hand_sql(period.last)
    if kind == "assigned":
        return assigned_sql(period)
    return {"payments": payments_sql, "contacts": contacts_sql, "promises": promises_sql}[kind](period)


def cases_behind_sql(figure: str, period: Period, holder: dict[str, int]) -> tuple[str, list[object]]:
    """Return SQL for the ids of the cases behind ``figure`` over ``period`` for the holder's keys.

    ``holder`` maps ``agent_id``, ``team_id`` or ``agency_id`` to an id (0 for none); cases in hand
    and never contacted are those at the end of the period's last day.
    """
    kind, condition = FIGURES[figure]
    sql, params = with_team_sql(*_source(kind, period))
    tests = [f"e.{key} = %s" for key in holder]
    where = " AND ".join([condition, *tests])
    return f"SELECT e.case_id FROM ({sql}) e WHERE {where}", [*params, *holder.values()]
