"""Inventory (存量/账龄): the portfolio on one date by days-past-due bucket, with a breakdown by one dimension."""

import urllib.parse

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.reports.forms import GROUP_BY_CHOICES, Filters
from backoffice.reports.models import Bucket, LineDay
from backoffice.reports.tables import Chart, Linked, Money, ReportResult, Share, Table
from cases.choices import Stage

LADDER = [bucket for bucket in Bucket if bucket != Bucket.CHARGED_OFF]


def line_days(filters: Filters) -> Q:
    """Return the condition that keeps the date's rows under the chosen product, policy, team and agency."""
    condition = Q(as_of=filters.day)
    for name in ("product", "policy", "team", "agency"):
        if getattr(filters, name) is not None:
            condition &= Q(**{f"{name}_id": getattr(filters, name)})
    return condition


def inventory_report(filters: Filters) -> ReportResult:
    """Sum the date's rows by bucket and by the breakdown's dimension, in one query."""
    group = filters.group_by
    rows = (
        LineDay.objects.filter(line_days(filters))
        .values("bucket", group)
        .annotate(lines=Sum("lines"), principal=Sum("principal_fen"), overdue=Sum("overdue_fen"))
        .order_by()
    )
    totals = {bucket: {"lines": 0, "principal": 0, "overdue": 0} for bucket in LADDER}
    breakdown: dict[object, dict[str, int]] = {}
    for row in rows:
        figures = totals.setdefault(row["bucket"], {"lines": 0, "principal": 0, "overdue": 0})
        for measure in ("lines", "principal", "overdue"):
            figures[measure] += row[measure]
        breakdown.setdefault(row[group], {})[row["bucket"]] = row["overdue"]
        breakdown[row[group]].setdefault("lines", 0)
        breakdown[row[group]]["lines"] += row["lines"]
    by_bucket = _bucket_table(totals, filters)
    return ReportResult(
        tables=[by_bucket, _breakdown_table(breakdown, filters)],
        charts=[_bucket_chart(totals)],
    )


def _bucket_table(totals: dict[str, dict[str, int]], filters: Filters) -> Table:
    all_lines = sum(figures["lines"] for figures in totals.values())
    all_overdue = sum(figures["overdue"] for figures in totals.values())
    all_principal = sum(figures["principal"] for figures in totals.values())
    rows = []
    for bucket in LADDER:
        figures = totals[bucket]
        url = case_list_url(bucket, filters)
        rows.append(
            [
                Bucket(bucket).label,
                Linked(figures["lines"], url) if url and figures["lines"] else figures["lines"],
                Share(figures["lines"], all_lines),
                Money(figures["overdue"]),
                Share(figures["overdue"], all_overdue),
                Money(figures["principal"]),
            ]
        )
    footer = [
        [
            _("Total"),
            all_lines,
            Share(all_lines, all_lines),
            Money(all_overdue),
            Share(all_overdue, all_overdue),
            Money(all_principal),
        ]
    ]
    columns = [
        _("Bucket"),
        _("Lines"),
        _("Share of lines"),
        _("Overdue amount"),
        _("Share of the overdue amount"),
        _("Outstanding principal"),
    ]
    return Table(key="by-bucket", title=_("By bucket"), columns=columns, rows=rows, footer=footer)


def _breakdown_table(breakdown: dict[object, dict[str, int]], filters: Filters) -> Table:
    label = dict(GROUP_BY_CHOICES)[filters.group_by]
    rows = []
    for key in sorted(breakdown, key=str):
        figures = breakdown[key]
        rows.append(
            [
                group_name(filters, key),
                figures["lines"],
                *(Money(figures.get(bucket, 0)) for bucket in LADDER),
            ]
        )
    columns = [str(label).capitalize(), _("Lines"), *(_("Overdue %(bucket)s") % {"bucket": b.value} for b in LADDER)]
    title = _("Overdue amount by bucket and %(dimension)s") % {"dimension": label}
    return Table(key="breakdown", title=title, columns=columns, rows=rows)


def group_name(filters: Filters, key: object) -> str:
    """Return the name people know a breakdown row by: 0 and the empty stage mean none (current lines)."""
    if filters.group_by == "stage":
        return Stage(key).label if key in Stage.values else _("current (no case)")
    if not key:
        return _("none")
    return filters.names[filters.group_by].get(key, f"#{key}")


def case_list_url(bucket: str, filters: Filters) -> str | None:
    """Return the case list filtered to the open cases in ``bucket`` under the same filters, or None.

    M0 lines are current and have no case; the case list has no team filter, so a team choice gets no link.
    """
    if bucket == Bucket.M0 or filters.team is not None:
        return None
    query = {"bucket": bucket}
    if filters.product is not None:
        query["product"] = f"p{filters.product}"
    elif filters.policy is not None:
        query["product"] = f"d{filters.policy}"
    if filters.agency is not None:
        query["agency__id__exact"] = filters.agency
    return f"{reverse('admin:cases_case_changelist')}?{urllib.parse.urlencode(query)}"


def _bucket_chart(totals: dict[str, dict[str, int]]) -> Chart:
    spec = {
        "type": "bar",
        "labels": [bucket.value for bucket in LADDER],
        "y_label": _("Overdue amount (yuan)"),
        "datasets": [
            {"label": _("Overdue amount (yuan)"), "data": [totals[b]["overdue"] / 100 for b in LADDER]},
        ],
    }
    return Chart(key="by-bucket-chart", table_key="by-bucket", spec=spec)
