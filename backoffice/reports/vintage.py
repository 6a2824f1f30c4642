"""Vintage: for the lines opened in one month (a cohort), the share of its outstanding principal 31+ and 61+
days past due, month on book by month on book."""

import datetime

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from backoffice.reports.forms import Filters
from backoffice.reports.models import Bucket, VintageCell
from backoffice.reports.tables import Chart, ReportResult, Share, Table

COHORTS = 12
OUTSTANDING = {bucket.value for bucket in Bucket if bucket != Bucket.CHARGED_OFF}
OVER_30 = {"M2", "M3", "M4", "M5", "M6", "M7"}
OVER_60 = OVER_30 - {"M2"}


def first_cohort(month: datetime.date) -> datetime.date:
    """Return the first of the ``COHORTS`` origination months that end with ``month``."""
    index = month.year * 12 + month.month - 1 - (COHORTS - 1)
    return datetime.date(index // 12, index % 12 + 1, 1)


def vintage_cells(filters: Filters) -> Q:
    """Return the condition that keeps the cohorts' cells of the chosen products."""
    condition = Q(opened_month__range=(first_cohort(filters.month), filters.month))
    products = filters.product_ids()
    return condition if products is None else condition & Q(product_id__in=products)


def vintage_shares(filters: Filters) -> dict[tuple[datetime.date, int], tuple[Share, Share]]:
    """Return, per cohort and month on book, the 31+ and 61+ shares of its outstanding principal (one query)."""
    rows = (
        VintageCell.objects.filter(vintage_cells(filters))
        .values("opened_month", "months_on_book", "bucket")
        .annotate(principal=Sum("principal_fen"))
        .order_by()
    )
    sums: dict[tuple[datetime.date, int], dict[str, int]] = {}
    for row in rows:
        if row["bucket"] not in OUTSTANDING:
            continue
        figures = sums.setdefault((row["opened_month"], row["months_on_book"]), {"all": 0, "31": 0, "61": 0})
        figures["all"] += row["principal"]
        figures["31"] += row["principal"] if row["bucket"] in OVER_30 else 0
        figures["61"] += row["principal"] if row["bucket"] in OVER_60 else 0
    return {key: (Share(f["31"], f["all"]), Share(f["61"], f["all"])) for key, f in sums.items()}


def vintage_report(filters: Filters) -> ReportResult:
    """Two triangles (31+ and 61+) and the 31+ curves, one per cohort."""
    shares = vintage_shares(filters)
    cohorts = sorted({cohort for cohort, _mob in shares})
    longest = max((mob for _cohort, mob in shares), default=-1)
    tables = [
        _triangle(
            shares, cohorts, longest, 0, key="over-30", title=_("Share of outstanding principal 31+ days past due")
        ),
        _triangle(
            shares, cohorts, longest, 1, key="over-60", title=_("Share of outstanding principal 61+ days past due")
        ),
    ]
    return ReportResult(tables=tables, charts=[_curves(shares, cohorts, longest)])


def _triangle(shares: dict, cohorts: list, longest: int, which: int, *, key: str, title: str) -> Table:
    rows = [
        [
            cohort.strftime("%Y-%m"),
            *(shares[(cohort, mob)][which] if (cohort, mob) in shares else "" for mob in range(longest + 1)),
        ]
        for cohort in cohorts
    ]
    columns = [_("Origination month"), *(_("MOB %(months)d") % {"months": mob} for mob in range(longest + 1))]
    return Table(key=key, title=title, columns=columns, rows=rows)


def _curves(shares: dict, cohorts: list, longest: int) -> Chart:
    datasets = [
        {
            "label": cohort.strftime("%Y-%m"),
            "data": [
                shares[(cohort, mob)][0].percent if (cohort, mob) in shares else None for mob in range(longest + 1)
            ],
        }
        for cohort in cohorts
    ]
    spec = {
        "type": "line",
        "labels": [str(mob) for mob in range(longest + 1)],
        "x_label": _("Months on book"),
        "y_label": _("31+ share of outstanding principal (%)"),
        "datasets": datasets,
    }
    return Chart(key="vintage-chart", table_key="over-30", spec=spec)
