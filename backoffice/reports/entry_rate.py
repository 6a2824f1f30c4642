"""Entry rate (入催率): of the balance due on a day, the share still unpaid at DPD1, and the follow-through later.

Every rate divides a sum by a sum: over several days or products it is the unpaid amount of them all over the
amount due of them all, never an average of daily rates.
"""

import datetime

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from backoffice.reports.forms import Filters
from backoffice.reports.models import EntryObservation
from backoffice.reports.tables import NOT_RIPE, Chart, Money, ReportResult, Share, Table

ENTRY_DAY = 1
FOLLOW_THROUGH_DAYS = [4, 8, 31]
OBSERVED_DAYS = [ENTRY_DAY, *FOLLOW_THROUGH_DAYS]


def observations(filters: Filters) -> Q:
    """Return the condition that keeps the range's observations of the chosen products."""
    condition = Q(due_on__range=(filters.first, filters.last), days_after__in=OBSERVED_DAYS)
    products = filters.product_ids()
    return condition if products is None else condition & Q(product_id__in=products)


def entry_rate_report(filters: Filters) -> ReportResult:
    """Sum the observations by due date and by product and customer kind: two queries whatever the range."""
    sums = {"bills": Sum("bills"), "due": Sum("due_fen"), "unpaid": Sum("unpaid_fen")}
    base = EntryObservation.objects.filter(observations(filters)).order_by()
    by_day = _collect(base.values("due_on", "days_after").annotate(**sums), ("due_on",))
    by_segment = _collect(base.values("product_id", "repeat", "days_after").annotate(**sums), ("product_id", "repeat"))
    days = _day_table(by_day)
    return ReportResult(
        tables=[days, _segment_table(by_segment, filters)],
        charts=[_entry_chart(by_day)],
    )


def _collect(rows: object, keys: tuple[str, ...]) -> dict[tuple, dict[int, dict[str, int]]]:
    collected: dict[tuple, dict[int, dict[str, int]]] = {}
    for row in rows:
        collected.setdefault(tuple(row[key] for key in keys), {})[row["days_after"]] = row
    return collected


def _columns(first: str) -> list[str]:
    follow = [_("Still unpaid at DPD%(days)d") % {"days": days} for days in FOLLOW_THROUGH_DAYS]
    return [first, _("Bills due"), _("Balance due"), _("Unpaid at DPD1"), _("Entry rate (DPD1)"), *follow]


def _figures(observed: dict[int, dict[str, int]]) -> list[object]:
    entry = observed.get(ENTRY_DAY)
    if entry is None:
        return [NOT_RIPE] * (4 + len(FOLLOW_THROUGH_DAYS))
    follow = [
        Share(observed[days]["unpaid"], observed[days]["due"]) if days in observed else NOT_RIPE
        for days in FOLLOW_THROUGH_DAYS
    ]
    return [entry["bills"], Money(entry["due"]), Money(entry["unpaid"]), Share(entry["unpaid"], entry["due"]), *follow]


def _summed(groups: list[dict[int, dict[str, int]]]) -> dict[int, dict[str, int]]:
    """Add the groups' sums per observation day, over the groups where that day is ripe."""
    total: dict[int, dict[str, int]] = {}
    for observed in groups:
        for days, row in observed.items():
            figures = total.setdefault(days, {"bills": 0, "due": 0, "unpaid": 0})
            for measure in figures:
                figures[measure] += row[measure]
    return total


def _day_table(by_day: dict[tuple, dict[int, dict[str, int]]]) -> Table:
    rows = [[day.isoformat(), *_figures(by_day[(day,)])] for (day,) in sorted(by_day)]
    footer = [[_("Total"), *_figures(_summed(list(by_day.values())))]]
    return Table(key="by-due-date", title=_("By due date"), columns=_columns(_("Due date")), rows=rows, footer=footer)


def _segment_table(by_segment: dict[tuple, dict[int, dict[str, int]]], filters: Filters) -> Table:
    rows = []
    for product, repeat in sorted(by_segment, key=lambda key: (filters.names["product_id"].get(key[0], ""), key[1])):
        name = filters.names["product_id"].get(product, f"#{product}")
        kind = _("repeat customers") if repeat else _("new customers")
        rows.append([f"{name} · {kind}", *_figures(by_segment[(product, repeat)])])
    columns = _columns(_("Product and customers"))
    return Table(key="by-product", title=_("By product, new and repeat customers"), columns=columns, rows=rows)


def _entry_chart(by_day: dict[tuple, dict[int, dict[str, int]]]) -> Chart:
    days = [day for (day,) in sorted(by_day) if ENTRY_DAY in by_day[(day,)]]
    rates = [Share(by_day[(d,)][ENTRY_DAY]["unpaid"], by_day[(d,)][ENTRY_DAY]["due"]).percent for d in days]
    spec = {
        "type": "line",
        "labels": [datetime.date.isoformat(day) for day in days],
        "y_label": _("Entry rate (%)"),
        "datasets": [{"label": _("Entry rate (DPD1), %"), "data": rates}],
    }
    return Chart(key="entry-rate-chart", table_key="by-due-date", spec=spec)
