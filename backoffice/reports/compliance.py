"""Compliance (合规): incidents by rule and by agent and agency, contacts and messages refused by rule, and the
reveals of personal data by user, over a range of days, from what the night counted (``ComplianceDay``).

Each count leads to the list of the records behind it (incidents, refused contacts, stopped messages, reveals)
where that list can be narrowed to exactly them: by rule, period, agent and, for incidents, agency.
"""

import datetime
import urllib.parse
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.reports.compliance_models import ComplianceDay, ComplianceKind
from backoffice.reports.forms import Filters
from backoffice.reports.tables import Chart, Linked, ReportResult, Table

RULE_KINDS = [ComplianceKind.INCIDENT, ComplianceKind.REFUSED, ComplianceKind.STOPPED]
PEOPLE_KINDS = [ComplianceKind.INCIDENT, ComplianceKind.REFUSED]
REVEALED_FIELDS = ("mobile", "national_id")

Counts = dict[tuple[str, str, int, int, int], int]


def compliance_days(filters: Filters) -> Q:
    """Return the condition that keeps the range's rows under the chosen product, policy, team and agency."""
    condition = Q(as_of__range=(filters.first, filters.last))
    products = filters.product_ids()
    if products is not None:
        condition &= Q(product_id__in=products)
    for name in ("team", "agency"):
        if getattr(filters, name) is not None:
            condition &= Q(**{f"{name}_id": getattr(filters, name)})
    return condition


def compliance_report(filters: Filters) -> ReportResult:
    """Sum the range's counts by kind, rule, person, team and agency in one query; name the people in another."""
    rows = (
        ComplianceDay.objects.filter(compliance_days(filters))
        .values_list("kind", "rule", "user_id", "team_id", "agency_id")
        .annotate(events=Sum("events"))
        .order_by()
    )
    counts: Counts = {tuple(row[:5]): row[5] for row in rows}
    people = _user_names({key[2] for key in counts if key[2]})
    links = _Links(filters)
    by_rule = _rule_table(counts, links)
    return ReportResult(
        tables=[by_rule, _people_table(counts, people, filters, links), _reveal_table(counts, people, filters, links)],
        charts=[_rule_chart(counts)],
    )


def _user_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


class _Links:
    """The lists behind the counts, narrowed to the range (and agent, agency), or none where a list cannot be.

    A list narrows by rule, period and person; the incident list by agency too. Product, policy and team are
    not filters of these lists, so with one of them chosen a count carries no link rather than a wrong one.
    """

    def __init__(self, filters: Filters) -> None:
        """Work out the range's bounds once, in local time."""
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.start = datetime.datetime.combine(filters.first, datetime.time.min, tzinfo=zone).isoformat()
        after = filters.last + datetime.timedelta(days=1)
        self.end = datetime.datetime.combine(after, datetime.time.min, tzinfo=zone).isoformat()
        self.filters = filters
        self.exact = filters.product is None and filters.policy is None and filters.team is None

    def _url(self, name: str, query: dict[str, object]) -> str:
        return f"{reverse(name)}?{urllib.parse.urlencode(query)}"

    def incidents(self, **query: object) -> str | None:
        """Return the incident list of the range, narrowed by ``query`` and the chosen agency."""
        if not self.exact:
            return None
        if self.filters.agency is not None:
            query["contact__case__agency__id__exact"] = self.filters.agency
        period = {"opened_at__gte": self.start, "opened_at__lt": self.end}
        return self._url("admin:cases_complianceincident_changelist", {**query, **period})

    def refusals(self, **query: object) -> str | None:
        """Return the refused contacts' list of the range, narrowed by ``query`` (it has no agency filter)."""
        if not self.exact or self.filters.agency is not None:
            return None
        period = {"refused_at__gte": self.start, "refused_at__lt": self.end}
        return self._url("admin:cases_contactrefusal_changelist", {**query, **period})

    def stopped(self, rule: str) -> str | None:
        """Return the message list of the rule on the one day chosen (that list takes one planned day)."""
        if not self.exact or self.filters.agency is not None or self.filters.first != self.filters.last:
            return None
        query = {"stop_rule": rule, "planned_for": self.filters.first.isoformat()}
        return self._url("admin:cases_message_changelist", query)

    def reveals(self, user_id: int) -> str | None:
        """Return the list of the user's reveals in the range."""
        if self.filters.agency is not None:
            return None
        query = {"revealed_by__id__exact": user_id, "revealed_at__gte": self.start, "revealed_at__lt": self.end}
        return self._url("admin:accounts_personaldatareveal_changelist", query)

    def for_kind(self, kind: str, **query: object) -> str | None:
        """Return the list behind a count of incidents or refused contacts."""
        return self.incidents(**query) if kind == ComplianceKind.INCIDENT else self.refusals(**query)


def _linked(count: int, url: str | None) -> object:
    return Linked(count, url) if count and url else count


def _by(counts: Counts, kinds: list[str], key: Callable[[tuple], object]) -> dict[object, dict[str, int]]:
    summed: dict[object, dict[str, int]] = {}
    for row, events in counts.items():
        if row[0] in kinds:
            figures = summed.setdefault(key(row), {})
            figures[row[0]] = figures.get(row[0], 0) + events
    return summed


def _rule_table(counts: Counts, links: _Links) -> Table:
    by_rule = _by(counts, RULE_KINDS, lambda row: (row[0], row[1]))
    order = {kind.value: n for n, kind in enumerate(RULE_KINDS)}
    rows = []
    for kind, rule in sorted(by_rule, key=lambda key: (order[key[0]], key[1])):
        events = by_rule[(kind, rule)][kind]
        url = links.stopped(rule) if kind == ComplianceKind.STOPPED else links.for_kind(kind, rule=rule)
        rows.append([rule, ComplianceKind(kind).label, _linked(events, url)])
    footer = [[_("Total"), kind.label, sum(f.get(kind.value, 0) for f in by_rule.values())] for kind in RULE_KINDS]
    columns = [_("Rule"), _("Counted"), _("How many")]
    return Table(key="by-rule", title=_("By rule"), columns=columns, rows=rows, footer=footer)


def _person(user_id: int, people: dict[int, str], *, nobody: str) -> str:
    return people.get(user_id, f"#{user_id}") if user_id else nobody


def _people_table(counts: Counts, people: dict[int, str], filters: Filters, links: _Links) -> Table:
    by_person = _by(counts, PEOPLE_KINDS, lambda row: (row[2], row[3], row[4]))
    rows = []
    for user_id, team_id, agency_id in sorted(by_person, key=lambda key: (people.get(key[0], ""), key)):
        figures = by_person[(user_id, team_id, agency_id)]
        person = {"contact__agent__id__exact": user_id} if user_id else {"contact__agent__isnull": "True"}
        refused_by = {"agent__id__exact": user_id} if user_id else {"agent__isnull": "True"}
        rows.append(
            [
                _person(user_id, people, nobody=_("(no agent named)")),
                filters.names["team_id"].get(team_id, "—"),
                filters.names["agency_id"].get(agency_id, _("in house")),
                _linked(figures.get(ComplianceKind.INCIDENT, 0), links.incidents(**person)),
                _linked(figures.get(ComplianceKind.REFUSED, 0), links.refusals(**refused_by)),
            ]
        )
    columns = [_("Agent"), _("Team"), _("Agency"), ComplianceKind.INCIDENT.label, ComplianceKind.REFUSED.label]
    return Table(key="by-agent", title=_("By agent, team and agency"), columns=columns, rows=rows)


def _reveal_table(counts: Counts, people: dict[int, str], filters: Filters, links: _Links) -> Table:
    by_user: dict[tuple[int, int], dict[str, int]] = {}
    for (kind, field, user_id, _team, agency_id), events in counts.items():
        if kind == ComplianceKind.REVEAL:
            figures = by_user.setdefault((user_id, agency_id), {})
            figures[field] = figures.get(field, 0) + events
    rows = []
    for user_id, agency_id in sorted(by_user, key=lambda key: (people.get(key[0], ""), key)):
        figures = by_user[(user_id, agency_id)]
        rows.append(
            [
                _person(user_id, people, nobody="—"),
                filters.names["agency_id"].get(agency_id, _("in house")),
                *(figures.get(field, 0) for field in REVEALED_FIELDS),
                _linked(sum(figures.values()), links.reveals(user_id)),
            ]
        )
    columns = [_("User"), _("Agency"), _("Mobile numbers"), _("National ID numbers"), _("Reveals")]
    return Table(key="reveals", title=_("Reveals of personal data by user"), columns=columns, rows=rows)


def _rule_chart(counts: Counts) -> Chart:
    by_rule = _by(counts, RULE_KINDS, lambda row: row[1])
    rules = sorted(by_rule)
    datasets = [
        {"label": str(kind.label), "data": [by_rule[rule].get(kind.value, 0) for rule in rules]} for kind in RULE_KINDS
    ]
    spec = {"type": "bar", "labels": rules, "x_label": _("Rule"), "y_label": _("How many"), "datasets": datasets}
    return Chart(key="compliance-chart", table_key="by-rule", spec=spec)
