"""Flow rates (迁徙率): where the lines of each bucket at the previous month end stand at month end T.

A flow rate is one cell of the transition matrix over its row (of the principal in bucket A at T−1, the share
in A+1 at T); the collection multiplier multiplies the successive flow rates M0→M1, M1→M2, … . Roll-rate
analysis (one cohort followed over many months) and vintage (by origination month) are other reports.
"""

import calendar
import datetime
import itertools
from decimal import Decimal
from fractions import Fraction

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from backoffice.reports.forms import Filters
from backoffice.reports.models import Bucket, FlowCell
from backoffice.reports.tables import Chart, Money, ReportResult, Share, Table

FROM_BUCKETS = [bucket for bucket in Bucket if bucket != Bucket.CHARGED_OFF]
TO_BUCKETS = list(Bucket)
_MULTIPLIER_PLACES = Decimal("0.000001")


def month_end(month: datetime.date) -> datetime.date:
    """Return the last day of ``month``."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def flow_cells(filters: Filters) -> Q:
    """Return the condition that keeps month end T's cells of the chosen products, team and agency."""
    condition = Q(month_end=month_end(filters.month))
    products = filters.product_ids()
    if products is not None:
        condition &= Q(product_id__in=products)
    for name in ("team", "agency"):
        if getattr(filters, name) is not None:
            condition &= Q(**{f"{name}_id": getattr(filters, name)})
    return condition


def flow_matrix(filters: Filters) -> dict[tuple[str, str], dict[str, int]]:
    """Return lines and principal per (from, to) bucket pair, summed over products in one query."""
    rows = (
        FlowCell.objects.filter(flow_cells(filters))
        .values("from_bucket", "to_bucket")
        .annotate(lines=Sum("lines"), principal=Sum("principal_fen"))
        .order_by()
    )
    return {(row["from_bucket"], row["to_bucket"]): row for row in rows}


def flow_rates_report(filters: Filters) -> ReportResult:
    """The matrix by balance and by count, its heat map, and the collection multiplier."""
    matrix = flow_matrix(filters)
    by_balance = _matrix_table(matrix, "principal", key="by-balance", title=_("By outstanding principal"))
    by_count = _matrix_table(matrix, "lines", key="by-count", title=_("By count of lines"))
    return ReportResult(
        tables=[by_balance, by_count, _multiplier_table(matrix)],
        charts=[_heat_map(matrix, "principal", "by-balance"), _heat_map(matrix, "lines", "by-count")],
    )


def row_total(matrix: dict, from_bucket: str, measure: str) -> int:
    """Return what bucket ``from_bucket`` held at the previous month end (its row's sum)."""
    return sum(matrix.get((from_bucket, to), {}).get(measure, 0) for to in TO_BUCKETS)


def cell_share(matrix: dict, from_bucket: str, to_bucket: str, measure: str) -> Share:
    """Return a cell as a share of its row."""
    part = matrix.get((from_bucket, to_bucket), {}).get(measure, 0)
    return Share(part, row_total(matrix, from_bucket, measure))


def _matrix_table(matrix: dict, measure: str, *, key: str, title: str) -> Table:
    held = _("Held at the previous month end")
    rows = []
    for source in FROM_BUCKETS:
        total = row_total(matrix, source, measure)
        rows.append(
            [
                source.value,
                Money(total) if measure == "principal" else total,
                *(cell_share(matrix, source, to, measure) for to in TO_BUCKETS),
            ]
        )
    columns = [_("From \\ to"), held, *(bucket.value for bucket in TO_BUCKETS)]
    return Table(key=key, title=title, columns=columns, rows=rows)


def multiplier_steps(matrix: dict) -> list[tuple[str, Share, Decimal | None]]:
    """Return each successive flow rate (by principal) and the product of the rates up to it.

    The product is exact (fractions), rounded once at the end; it stops at the first bucket that held nothing.
    """
    steps = []
    product: Fraction | None = Fraction(1)
    for source, target in itertools.pairwise(FROM_BUCKETS):
        rate = cell_share(matrix, source, target, "principal")
        product = None if product is None or not rate.whole else product * Fraction(rate.part, rate.whole)
        shown = (
            None if product is None else (Decimal(product.numerator) / product.denominator).quantize(_MULTIPLIER_PLACES)
        )
        steps.append((f"{source.value}→{target.value}", rate, shown))
    return steps


def _multiplier_table(matrix: dict) -> Table:
    rows = [[step, rate, product] for step, rate, product in multiplier_steps(matrix)]
    columns = [_("Step"), _("Flow rate (by principal)"), _("Collection multiplier up to this step")]
    return Table(key="multiplier", title=_("Flow rates and the collection multiplier"), columns=columns, rows=rows)


def _heat_map(matrix: dict, measure: str, table_key: str) -> Chart:
    cells = [
        {"x": to.value, "y": source.value, "v": cell_share(matrix, source, to, measure).percent}
        for source in FROM_BUCKETS
        for to in TO_BUCKETS
    ]
    spec = {
        "type": "matrix",
        "columns": [bucket.value for bucket in TO_BUCKETS],
        "rows": [bucket.value for bucket in FROM_BUCKETS],
        "x_label": _("Bucket at month end T"),
        "y_label": _("Bucket at the previous month end"),
        "cells": cells,
    }
    return Chart(key=f"{table_key}-chart", table_key=table_key, spec=spec)
