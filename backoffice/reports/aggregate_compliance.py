"""The night's compliance step: the day before the night's date, counted once, set-wise.

The night for date D counts the whole local day D−1, which has ended: the compliance incidents opened, the
contacts the rules refused to agents, the messages planned for that day that a rule stopped, and the reveals
of personal data, each by rule (or what was revealed), agent or user, team, agency and product.

Each kind of a day is written whole or not at all: its statement writes only if the day has no row of that
kind yet (and ``ON CONFLICT DO NOTHING`` on the keys), so a re-run changes nothing and a night killed half-way
fills in what is missing. The team is the agent's team for the case's stage, as the portfolio counts it.
"""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from accounts.models import CreditLine, PersonalDataReveal
from backoffice.reports.compliance_models import ComplianceDay, ComplianceKind
from cases.choices import MessageStatus
from cases.models import AgencyMember, Case, ComplianceIncident, Contact, ContactRefusal, Message


@dataclass(frozen=True)
class _Tables:
    day: str = ComplianceDay._meta.db_table
    incident: str = ComplianceIncident._meta.db_table
    contact: str = Contact._meta.db_table
    refusal: str = ContactRefusal._meta.db_table
    message: str = Message._meta.db_table
    reveal: str = PersonalDataReveal._meta.db_table
    member: str = AgencyMember._meta.db_table
    case: str = Case._meta.db_table
    line: str = CreditLine._meta.db_table


T = _Tables()
_COLUMNS = "as_of, kind, rule, user_id, team_id, agency_id, product_id, events"


def _day_bounds(day: datetime.date) -> list[object]:
    """Return the start of ``day`` and of the next, local time, as the database compares stored times."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return [connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(end)]


def _not_yet(kind: ComplianceKind) -> str:
    return f"NOT EXISTS (SELECT 1 FROM {T.day} WHERE as_of = %s AND kind = '{kind.value}')"


def _execute(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _by_case_sql(kind: ComplianceKind, source: str, *, time: str, agent: str, case: str, teams: str) -> str:
    """Return the statement for events tied to a case (incidents, refusals): the case gives agency and product."""
    return (
        f"INSERT INTO {T.day} ({_COLUMNS}) "
        f"SELECT %s, '{kind.value}', e.rule, COALESCE({agent}, 0), COALESCE(tm.team_id, 0), "
        "COALESCE(c.agency_id, 0), l.product_id, COUNT(*) "
        f"FROM {source} JOIN {T.case} c ON c.id = {case} JOIN {T.line} l ON l.id = c.credit_line_id "
        f"LEFT JOIN {teams} tm ON tm.user_id = {agent} AND tm.stage = c.stage "
        f"WHERE {time} >= %s AND {time} < %s AND {_not_yet(kind)} "
        "GROUP BY e.rule, 4, 5, 6, l.product_id ON CONFLICT DO NOTHING"
    )


def incidents_write(*, day: datetime.date, teams: tuple[str, list[object]]) -> int:
    """Count the incidents opened on ``day`` by rule, the contact's agent, team, agency and product."""
    table, params = teams
    source = f"{T.incident} e JOIN {T.contact} k ON k.id = e.contact_id"
    sql = _by_case_sql(
        ComplianceKind.INCIDENT, source, time="e.opened_at", agent="k.agent_id", case="k.case_id", teams=table
    )
    return _execute(sql, [day, *params, *_day_bounds(day), day])


def refusals_write(*, day: datetime.date, teams: tuple[str, list[object]]) -> int:
    """Count the contacts refused on ``day`` by rule, the agent who tried, team, agency and product."""
    table, params = teams
    sql = _by_case_sql(
        ComplianceKind.REFUSED, f"{T.refusal} e", time="e.refused_at", agent="e.agent_id", case="e.case_id", teams=table
    )
    return _execute(sql, [day, *params, *_day_bounds(day), day])


def stopped_write(*, day: datetime.date, teams: tuple[str, list[object]]) -> int:
    """Count the messages planned for ``day`` that a rule stopped, by rule, the case's team and agency, product.

    The system stops a message, so it has no agent; a reminder before the due date has no case, so no team
    or agency either. Cheap: the (planned_for, status, stop_rule) index finds the day's stopped messages.
    """
    table, params = teams
    kind = ComplianceKind.STOPPED
    sql = (
        f"INSERT INTO {T.day} ({_COLUMNS}) "
        f"SELECT %s, '{kind.value}', m.stop_rule, 0, COALESCE(tm.team_id, 0), COALESCE(c.agency_id, 0), "
        "l.product_id, COUNT(*) "
        f"FROM {T.message} m JOIN {T.line} l ON l.id = m.credit_line_id LEFT JOIN {T.case} c ON c.id = m.case_id "
        f"LEFT JOIN {table} tm ON tm.user_id = c.assignee_id AND tm.stage = c.stage "
        f"WHERE m.planned_for = %s AND m.status = '{MessageStatus.STOPPED.value}' AND {_not_yet(kind)} "
        "GROUP BY m.stop_rule, 5, 6, l.product_id ON CONFLICT DO NOTHING"
    )
    return _execute(sql, [day, *params, day, day])


def reveals_write(*, day: datetime.date) -> int:
    """Count the reveals of personal data on ``day`` by what was revealed, who revealed it and their agency.

    A reveal is of a customer, not of a case: it has no team nor product.
    """
    kind = ComplianceKind.REVEAL
    sql = (
        f"INSERT INTO {T.day} ({_COLUMNS}) "
        f"SELECT %s, '{kind.value}', r.field, r.revealed_by_id, 0, COALESCE(am.agency_id, 0), 0, COUNT(*) "
        f"FROM {T.reveal} r LEFT JOIN {T.member} am ON am.user_id = r.revealed_by_id "
        f"WHERE r.revealed_at >= %s AND r.revealed_at < %s AND {_not_yet(kind)} "
        "GROUP BY r.field, r.revealed_by_id, 6 ON CONFLICT DO NOTHING"
    )
    return _execute(sql, [day, *_day_bounds(day), day])


def compliance_days_write(*, as_of: datetime.date, teams: tuple[str, list[object]]) -> int:
    """Write the compliance counts of the day before ``as_of`` (the night's date); return the rows written.

    ``teams`` is the night's derived table of (agent, stage, team) and its parameters.
    """
    day = as_of - datetime.timedelta(days=1)
    written = incidents_write(day=day, teams=teams) + refusals_write(day=day, teams=teams)
    return written + stopped_write(day=day, teams=teams) + reveals_write(day=day)
