"""Recovery (催回率) and cure rates (治愈率/出催率) of stage-entry cohorts, from the night's ``RecoveryDay`` rows.

A cohort is the cases that entered a stage in the chosen days; its figures are as they stood at the end of
the range's last day (the rows of days up to it), so a past range always reads the same. Rates divide sums.
"""

import urllib.parse

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.reports.forms import GROUP_BY_CHOICES, Filters
from backoffice.reports.inventory import group_name
from backoffice.reports.models_recovery import RecoveryDay
from backoffice.reports.tables import Chart, Linked, Money, ReportResult, Share, Table
from cases.choices import LADDER, Stage

MEASURES = [
    "entered",
    "assigned_fen",
    "collected_fen",
    "collecting",
    "held",
    "paid",
    "reaged",
    "settled",
    "written_off",
    "closed",
    "escalated",
]
ENDINGS = ["paid", "reaged", "settled", "written_off", "closed", "escalated"]


def cohort_days(filters: Filters) -> Q:
    """Return the condition that keeps the cohorts entered in the range, as they stood at its end."""
    condition = Q(entered_on__range=(filters.first, filters.last), day__lte=filters.last)
    products = filters.product_ids()
    if products is not None:
        condition &= Q(product_id__in=products)
    for name in ("team", "agency"):
        if getattr(filters, name) is not None:
            condition &= Q(**{f"{name}_id": getattr(filters, name)})
    return condition


def _summed(rows: object, key: str) -> dict[object, dict[str, int]]:
    return {row[key]: {measure: row[measure] for measure in MEASURES} for row in rows}


def recovery_report(filters: Filters) -> ReportResult:
    """Sum the cohorts by stage and by the chosen breakdown: two queries whatever the range."""
    base = RecoveryDay.objects.filter(cohort_days(filters)).order_by()
    sums = {measure: Sum(measure) for measure in MEASURES}
    by_stage = _summed(base.values("stage").annotate(**sums), "stage")
    group = "stage" if filters.group_by == "stage" else filters.group_by
    by_group = by_stage if group == "stage" else _summed(base.values(group).annotate(**sums), group)
    stages = _stage_table(by_stage, filters)
    return ReportResult(tables=[stages, _breakdown_table(by_group, filters)], charts=[_stage_chart(by_stage)])


def _columns(first: str) -> list[str]:
    return [
        first,
        _("Cases entered"),
        _("Assigned (overdue at entry)"),
        _("Collected (net of reversals)"),
        _("Recovery rate by amount (催回率)"),
        _("Cases with a collection"),
        _("Recovery rate by cases"),
        _("Cured by payment"),
        _("Cure rate by payment (治愈率/出催率)"),
        _("Resolved by re-ageing"),
        _("Settled"),
        _("Written off"),
        _("Closed for another reason"),
        _("Escalated"),
        _("Still in the stage"),
        _("of which on hold"),
    ]


def _figures(figures: dict[str, int], entered: object) -> list[object]:
    count = figures["entered"]
    still = count - sum(figures[name] for name in ENDINGS)
    return [
        entered,
        Money(figures["assigned_fen"]),
        Money(figures["collected_fen"]),
        Share(figures["collected_fen"], figures["assigned_fen"]),
        figures["collecting"],
        Share(figures["collecting"], count),
        figures["paid"],
        Share(figures["paid"], count),
        figures["reaged"],
        figures["settled"],
        figures["written_off"],
        figures["closed"],
        figures["escalated"],
        still,
        figures["held"],
    ]


def _total(groups: list[dict[str, int]]) -> dict[str, int]:
    return {measure: sum(figures[measure] for figures in groups) for measure in MEASURES}


def _stage_table(by_stage: dict[object, dict[str, int]], filters: Filters) -> Table:
    rows = []
    for stage in LADDER:
        figures = by_stage.get(stage)
        if figures is None:
            continue
        url = case_list_url(stage, filters)
        entered = Linked(figures["entered"], url) if url and figures["entered"] else figures["entered"]
        rows.append([Stage(stage).label, *_figures(figures, entered)])
    total = _total(list(by_stage.values()))
    footer = [[_("Total"), *_figures(total, total["entered"])]] if by_stage else []
    return Table(key="by-stage", title=_("By stage entered"), columns=_columns(_("Stage")), rows=rows, footer=footer)


def _breakdown_table(by_group: dict[object, dict[str, int]], filters: Filters) -> Table:
    label = dict(GROUP_BY_CHOICES)[filters.group_by]
    rows = [
        [group_name(filters, key), *_figures(by_group[key], by_group[key]["entered"])]
        for key in sorted(by_group, key=lambda key: group_name(filters, key))
    ]
    title = _("By %(dimension)s") % {"dimension": label}
    return Table(key="breakdown", title=title, columns=_columns(str(label).capitalize()), rows=rows)


def case_list_url(stage: str, filters: Filters) -> str | None:
    """Return the case list filtered to the cohort's cases (those that entered ``stage`` in the range), or None.

    The case list's agency is the case's today and it has no team filter: under either choice, no link.
    """
    if filters.team is not None or filters.agency is not None:
        return None
    query = {"entered_stage": stage, "entered_from": filters.first.isoformat(), "entered_to": filters.last.isoformat()}
    if filters.product is not None:
        query["product"] = f"p{filters.product}"
    elif filters.policy is not None:
        query["product"] = f"d{filters.policy}"
    return f"{reverse('admin:cases_case_changelist')}?{urllib.parse.urlencode(query)}"


def _stage_chart(by_stage: dict[object, dict[str, int]]) -> Chart:
    stages = [stage for stage in LADDER if stage in by_stage]
    rates = {
        _("Recovery rate by amount (%)"): [
            Share(by_stage[s]["collected_fen"], by_stage[s]["assigned_fen"]).percent for s in stages
        ],
        _("Recovery rate by cases (%)"): [
            Share(by_stage[s]["collecting"], by_stage[s]["entered"]).percent for s in stages
        ],
        _("Cure rate by payment (%)"): [Share(by_stage[s]["paid"], by_stage[s]["entered"]).percent for s in stages],
    }
    spec = {
        "type": "bar",
        "labels": [str(Stage(stage).label) for stage in stages],
        "y_label": _("Share (%)"),
        "datasets": [{"label": label, "data": data} for label, data in rates.items()],
    }
    return Chart(key="by-stage-chart", table_key="by-stage", spec=spec)
