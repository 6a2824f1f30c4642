"""The letters funnel: drafted → approved → sent → paid within 30 days of sending, per law firm and template,
with the reasons letters left it and the legal cost against what their cases paid.

Read from the night's ``LetterDay`` (letters by the day they reached a step) and ``LetterPaid`` (what the
cases of the letters sent on a day paid in the 30 days after) rows: two queries whatever the range.
"""

import datetime
import urllib.parse

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.reports.forms import Filters
from backoffice.reports.models_recovery import LetterDay, LetterPaid, LetterStep
from backoffice.reports.tables import Chart, Linked, Money, ReportResult, Share, Table
from letters.selectors import PAID_WITHIN_DAYS

FUNNEL = [LetterStep.DRAFTED, LetterStep.APPROVED, LetterStep.SENT]
LEFT = [LetterStep.REJECTED, LetterStep.CANCELLED]
PAID = "paid"


def _kept(filters: Filters, day_field: str) -> Q:
    condition = Q(**{f"{day_field}__range": (filters.first, filters.last)})
    products = filters.product_ids()
    if products is not None:
        condition &= Q(product_id__in=products)
    for name in ("firm", "template"):
        if getattr(filters, name) is not None:
            condition &= Q(**{f"{name}_id": getattr(filters, name)})
    return condition


def letters_report(filters: Filters) -> ReportResult:
    """The funnel with its chart, the figures per firm and template, and the reasons letters left the funnel."""
    steps = list(
        LetterDay.objects.filter(_kept(filters, "day"))
        .values("step", "firm_id", "template_id", "reason")
        .annotate(letters=Sum("letters"), cost=Sum("cost_fen"))
        .order_by()
    )
    paid = list(
        LetterPaid.objects.filter(_kept(filters, "sent_on"))
        .values("firm_id", "template_id")
        .annotate(recovered=Sum("recovered_fen"), paying=Sum("paying"))
        .order_by()
    )
    per_pair = _per_pair(steps, paid)
    total = _summed(per_pair.values())
    return ReportResult(
        tables=[_funnel_table(total, filters), _pair_table(per_pair, filters), _reason_table(steps, filters)],
        charts=[_funnel_chart(total)],
    )


def _empty() -> dict[str, int]:
    return {**dict.fromkeys([*FUNNEL, *LEFT, PAID], 0), "cost": 0, "recovered": 0}


def _per_pair(steps: list[dict], paid: list[dict]) -> dict[tuple[int, int], dict[str, int]]:
    pairs: dict[tuple[int, int], dict[str, int]] = {}
    for row in steps:
        figures = pairs.setdefault((row["firm_id"], row["template_id"]), _empty())
        figures[row["step"]] += row["letters"]
        figures["cost"] += row["cost"]
    for row in paid:
        figures = pairs.setdefault((row["firm_id"], row["template_id"]), _empty())
        figures[PAID] += row["paying"]
        figures["recovered"] += row["recovered"]
    return pairs


def _summed(groups: object) -> dict[str, int]:
    total = _empty()
    for figures in groups:
        for key, value in figures.items():
            total[key] += value
    return total


def not_ripe_from(filters: Filters) -> datetime.date | None:
    """Return the first sending day of the range whose 30 days are not over yet, or None if every one is."""
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    first_unripe = yesterday - datetime.timedelta(days=PAID_WITHIN_DAYS - 2)
    return max(first_unripe, filters.first) if filters.last >= first_unripe else None


def letter_list_url(step: str, filters: Filters) -> str | None:
    """Return the letter list filtered to the letters that reached ``step`` in the range, or None.

    The letter list filters by one product, not by a policy: under a policy alone, no link.
    """
    if filters.policy is not None and filters.product is None:
        return None
    query = {"funnel_step": step, "funnel_from": filters.first.isoformat(), "funnel_to": filters.last.isoformat()}
    if filters.product is not None:
        query["funnel_product"] = filters.product
    if filters.firm is not None:
        query["firm__id__exact"] = filters.firm
    if filters.template is not None:
        query["template__id__exact"] = filters.template
    return f"{reverse('admin:letters_letter_changelist')}?{urllib.parse.urlencode(query)}"


def _linked(count: int, step: str, filters: Filters) -> object:
    url = letter_list_url(step, filters)
    return Linked(count, url) if url and count else count


def _funnel_table(total: dict[str, int], filters: Filters) -> Table:
    drafted = total[LetterStep.DRAFTED]
    rows = [
        [LetterStep(step).label, _linked(total[step], step, filters), Share(total[step], drafted), "", ""]
        for step in FUNNEL
    ]
    rows[-1][3] = Money(total["cost"])
    rows.append(
        [
            _("Paid within 30 days of sending"),
            _linked(total[PAID], PAID, filters),
            Share(total[PAID], total[LetterStep.SENT]),
            "",
            Money(total["recovered"]),
        ]
    )
    rows += [
        [LetterStep(step).label, _linked(total[step], step, filters), Share(total[step], drafted), "", ""]
        for step in LEFT
    ]
    columns = [_("Step"), _("Letters"), _("Share"), _("Legal cost"), _("Recovered within 30 days")]
    unripe = not_ripe_from(filters)
    title = _("Funnel")
    if unripe is not None:
        title = _("Funnel (letters sent from %(day)s are still within their 30 days: not yet ripe)") % {
            "day": unripe.isoformat()
        }
    return Table(key="funnel", title=title, columns=columns, rows=rows)


def _pair_table(per_pair: dict[tuple[int, int], dict[str, int]], filters: Filters) -> Table:
    firms, templates = filters.names.get("firm_id", {}), filters.names.get("template_id", {})
    rows = []
    for firm, template in sorted(per_pair, key=lambda pair: (firms.get(pair[0], ""), templates.get(pair[1], ""))):
        figures = per_pair[(firm, template)]
        rows.append(
            [
                firms.get(firm, _("none (creditor's own letter)") if not firm else f"#{firm}"),
                templates.get(template, f"#{template}"),
                *(figures[step] for step in [*FUNNEL, *LEFT]),
                figures[PAID],
                Share(figures[PAID], figures[LetterStep.SENT]),
                Money(figures["cost"]),
                Money(figures["recovered"]),
                Share(figures["recovered"], figures["cost"]),
            ]
        )
    columns = [
        _("Law firm"),
        _("Template"),
        *(str(LetterStep(step).label) for step in [*FUNNEL, *LEFT]),
        _("Paid within 30 days"),
        _("Share of the letters sent"),
        _("Legal cost"),
        _("Recovered within 30 days"),
        _("Recovered per yuan of legal cost"),
    ]
    return Table(key="by-firm-template", title=_("By law firm and template"), columns=columns, rows=rows)


def _reason_table(steps: list[dict], filters: Filters) -> Table:
    reasons: dict[tuple[str, str], int] = {}
    for row in steps:
        if row["step"] in LEFT:
            key = (row["step"], row["reason"])
            reasons[key] = reasons.get(key, 0) + row["letters"]
    rows = [
        [LetterStep(step).label, reason or _("(no reason given)"), count]
        for (step, reason), count in sorted(reasons.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    ]
    columns = [_("Left the funnel"), _("Reason"), _("Letters")]
    return Table(key="reasons", title=_("Rejection and cancellation reasons"), columns=columns, rows=rows)


def _funnel_chart(total: dict[str, int]) -> Chart:
    labels = [str(LetterStep(step).label) for step in FUNNEL] + [_("Paid within 30 days")]
    spec = {
        "type": "bar",
        "labels": labels,
        "y_label": _("Letters"),
        "datasets": [{"label": _("Letters"), "data": [total[step] for step in FUNNEL] + [total[PAID]]}],
    }
    return Chart(key="funnel-chart", table_key="funnel", spec=spec)
