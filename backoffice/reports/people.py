"""People (人员绩效): per agent, team or agency, their cases, what they collected and how they worked them.

Every figure divides a sum by a sum over the range (never an average of daily ratios), from the night's
``PeopleDay`` rows: one query whatever the range.
"""

import datetime
import urllib.parse
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.reports.forms import PEOPLE_GROUP_CHOICES, Filters
from backoffice.reports.models import PeopleDay
from backoffice.reports.tables import Chart, Linked, Money, ReportResult, Share, Table

# The range's sums, the day before it (what was in hand when it began) and its last day (in hand at its end).
FLOWS = (
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
STOCKS = ("cases_in_hand", "in_hand_fen", "never_contacted")
_HOLDER_LETTER = {"agent_id": "a", "team_id": "t", "agency_id": "g"}
_PER_CASE_PLACES = Decimal("0.01")
_HOURS_PLACES = Decimal("0.1")


def people_rows(filters: Filters) -> Q:
    """Return the condition that keeps the rows from the day before the range to its end, under the filters."""
    condition = Q(day__range=(filters.first - datetime.timedelta(days=1), filters.last))
    products = filters.product_ids()
    if products is not None:
        condition &= Q(product_id__in=products)
    for name in ("team", "agency"):
        if getattr(filters, name) is not None:
            condition &= Q(**{f"{name}_id": getattr(filters, name)})
    return condition


def people_report(filters: Filters) -> ReportResult:
    """Sum the rows by the chosen holder: the range's events, and the stocks of its last day and the day before."""
    group = filters.group_by
    before, last = filters.first - datetime.timedelta(days=1), filters.last
    in_range = Q(day__gte=filters.first)
    # Named apart from the fields they sum (an annotation may not shadow a field).
    sums = {f"sum_{name}": Sum(name, filter=in_range, default=0) for name in FLOWS}
    sums |= {f"sum_{name}": Sum(name, filter=Q(day=last), default=0) for name in STOCKS}
    sums |= {"sum_opening_cases": Sum("cases_in_hand", filter=Q(day=before), default=0)}
    sums |= {"sum_opening_fen": Sum("in_hand_fen", filter=Q(day=before), default=0)}
    rows = PeopleDay.objects.filter(people_rows(filters)).values(group).annotate(**sums).order_by()
    figures = {row[group]: {name.removeprefix("sum_"): row[name] for name in sums} for row in rows}
    table = _people_table(figures, filters)
    return ReportResult(tables=[table], charts=[_collected_chart(figures, filters)])


def _columns() -> list[str]:
    return [
        _("Cases in hand"),
        _("Cases assigned"),
        _("Overdue amount assigned"),
        _("Collected"),
        _("Recovery rate (催回率)"),
        _("Contacts"),
        _("Contacts per case"),
        _("Right-party contacts"),
        _("Right-party contact rate"),
        _("Never contacted"),
        _("Coverage gap (share never contacted)"),
        _("First contacts"),
        _("Hours to first contact"),
        _("Promises made"),
        _("Promises due"),
        _("Promises kept on their date"),
        _("Kept on their date"),
    ]


def _ratio(part: int, whole: int, places: Decimal) -> Decimal | None:
    return None if not whole else (Decimal(part) / Decimal(whole)).quantize(places)


def _cells(row: dict[str, int], link: Callable[..., object]) -> list[object]:
    assigned_cases = row["opening_cases"] + row["taken_in"]
    assigned_fen = row["opening_fen"] + row["taken_in_fen"]
    collected = row["collected_fen"] + row["reversed_fen"]
    return [
        link("in_hand", row["cases_in_hand"]),
        link("assigned", assigned_cases),
        Money(assigned_fen),
        link("collected", Money(collected), bool(row["collected_fen"] or row["reversed_fen"])),
        Share(collected, assigned_fen),
        link("contacts", row["contacts"]),
        _ratio(row["contacts"], assigned_cases, _PER_CASE_PLACES),
        link("right_party", row["right_party_contacts"]),
        Share(row["right_party_contacts"], row["contacts"]),
        link("never_contacted", row["never_contacted"]),
        Share(row["never_contacted"], row["cases_in_hand"]),
        link("first_contacts", row["first_contacts"]),
        _ratio(row["first_contact_seconds"], row["first_contacts"] * 3600, _HOURS_PLACES),
        link("promises_made", row["promises_made"]),
        row["promises_due"],
        link("promises_kept", row["promises_kept"]),
        Share(row["promises_kept"], row["promises_due"]),
    ]


def _people_table(figures: dict[int, dict[str, int]], filters: Filters) -> Table:
    label = str(dict(PEOPLE_GROUP_CHOICES)[filters.group_by])
    rows = []
    for key in sorted(figures, key=lambda key: (key == 0, holder_name(filters, key))):
        row = figures[key]

        def link(figure: str, value: object, nonzero: bool | None = None, key: int = key) -> object:
            shown = value if nonzero is None else nonzero
            return Linked(value, case_list_url(figure, key, filters)) if shown else value

        rows.append([holder_name(filters, key), *_cells(row, link)])
    total = {name: sum(row[name] for row in figures.values()) for name in next(iter(figures.values()), {})}
    footer = [[_("Total"), *_cells(total, lambda _figure, value, _nonzero=None: value)]] if figures else []
    title = _("By %(dimension)s") % {"dimension": label}
    return Table(key="people", title=title, columns=[label.capitalize(), *_columns()], rows=rows, footer=footer)


def holder_name(filters: Filters, key: int) -> str:
    """Return the name of an agent, team or agency; 0 is nobody (an agency's cases have no agent)."""
    if not key:
        return _("no agent (unassigned, or with an agency)") if filters.group_by == "agent_id" else _("none")
    return filters.names[filters.group_by].get(key, f"#{key}")


def holder_token(filters: Filters, key: int) -> str:
    """Return the case list's ``holder`` value for a row: its own key and the team and agency filters."""
    holder = {filters.group_by: key}
    for name in ("team_id", "agency_id"):
        chosen = getattr(filters, name.removesuffix("_id"))
        if chosen is not None:
            holder.setdefault(name, chosen)
    return ".".join(f"{_HOLDER_LETTER[name]}{value}" for name, value in holder.items())


def case_list_url(figure: str, key: int, filters: Filters) -> str:
    """Return the case list filtered to exactly the cases behind ``figure`` for the row's holder over the range."""
    query = {
        "people": figure,
        "holder": holder_token(filters, key),
        "people_from": filters.first.isoformat(),
        "people_to": filters.last.isoformat(),
    }
    if filters.product is not None:
        query["product"] = f"p{filters.product}"
    elif filters.policy is not None:
        query["product"] = f"d{filters.policy}"
    return f"{reverse('admin:cases_case_changelist')}?{urllib.parse.urlencode(query)}"


def _collected_chart(figures: dict[int, dict[str, int]], filters: Filters) -> Chart:
    keys = sorted(figures, key=lambda key: (key == 0, holder_name(filters, key)))
    spec = {
        "type": "bar",
        "labels": [holder_name(filters, key) for key in keys],
        "y_label": _("Collected (yuan)"),
        "datasets": [
            {
                "label": _("Collected, net of reversals (yuan)"),
                "data": [(figures[k]["collected_fen"] + figures[k]["reversed_fen"]) / 100 for k in keys],
            },
        ],
    }
    return Chart(key="people-chart", table_key="people", spec=spec)
