"""Which dashboard figures are past the threshold a supervisor set for them: one query for all the thresholds.

A figure is past its threshold when it is strictly above it; a figure not yet ripe, or with nothing to
measure (no letter waiting), is never past one.
"""

import dataclasses
from decimal import Decimal

from django.utils.translation import gettext as _

from backoffice.reports.tables import NotRipe, Share
from backoffice.reports.threshold_models import DashboardThreshold, ThresholdFigure


@dataclasses.dataclass(frozen=True)
class Mark:
    """A figure's threshold in words, and whether the figure is past it."""

    text: str
    past: bool


def thresholds() -> dict[str, Decimal]:
    """Return each watched figure's limit by its card's key (one query of a table of a few rows)."""
    return dict(DashboardThreshold.objects.values_list("figure", "limit"))


def measured(gauge: object) -> Decimal | None:
    """Return what a threshold is compared with: a share in percent, a count or hours as they are; else None."""
    if gauge is None or isinstance(gauge, NotRipe):
        return None
    if isinstance(gauge, Share):
        return None if gauge.ratio is None else gauge.ratio * 100
    return Decimal(gauge)


def _limit_text(key: str, limit: Decimal) -> str:
    if key == ThresholdFigure.ENTRY_RATE:
        return _("alert above %(limit)s%%") % {"limit": f"{limit:.2f}"}
    shown = f"{limit.normalize():f}"
    if key == ThresholdFigure.LETTERS_WAITING:
        return _("alert when the oldest has waited over %(limit)s hours") % {"limit": shown}
    return _("alert above %(limit)s") % {"limit": shown}


def threshold_mark(key: str, gauge: object, limit: Decimal | None) -> Mark | None:
    """Return the figure's mark against its threshold, or None when no threshold watches it."""
    if limit is None:
        return None
    value = measured(gauge)
    return Mark(text=_limit_text(key, limit), past=value is not None and value > limit)
