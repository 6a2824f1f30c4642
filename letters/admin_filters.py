"""The letter list's filters: rendering (waiting, failed) and the funnel.

The funnel filter keeps the letters that reached a step of the funnel between two dates, the letters
report's drill-down: drafted (requested), approved, sent, rejected or cancelled on a day from
``funnel_from`` to ``funnel_to`` in the project's time zone, optionally on one product; or, for ``paid``,
sent on such a day and paid within 30 days of it.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin import DrillDownFilter
from letters.choices import LetterStatus
from letters.selectors import paid_within_sql, rendering_counts

# When a letter reached each step of the funnel.
STEP_MOMENTS = {
    "drafted": "requested_at",
    "approved": "approved_at",
    "sent": "sent_at",
    "rejected": "rejected_at",
    "cancelled": "cancelled_at",
}
STEP_LABELS = {
    "drafted": _("Drafted"),
    "approved": _("Approved"),
    "sent": _("Sent"),
    "rejected": _("Rejected"),
    "cancelled": _("Cancelled"),
    "paid": _("Paid within 30 days of sending"),
}


def reached_step(queryset: QuerySet, *, step: str, first: datetime.date, last: datetime.date) -> QuerySet:
    """Keep the letters of ``queryset`` that reached ``step`` on a day from ``first`` to ``last``."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    if step == "paid":
        sql, params = paid_within_sql(first, last)
        # Only our own SQL is spliced in; the days are bound.
        return queryset.filter(pk__in=RawSQL(sql, params))  # noqa: S611 - values are bound
    moment = STEP_MOMENTS[step]
    return queryset.filter(**{f"{moment}__gte": start, f"{moment}__lt": end})


class LetterFunnelFilter(DrillDownFilter):
    """Filter letters by the funnel step they reached and the days they reached it (both included)."""

    title = _("letters funnel")
    parameters = ("funnel_step", "funnel_from", "funnel_to", "funnel_product")

    def described(self) -> str:
        """Say what the filter keeps now."""
        return _("%(step)s, %(first)s to %(last)s") % {
            "step": STEP_LABELS.get(self.used.get("funnel_step"), self.used.get("funnel_step", "")),
            "first": self.used.get("funnel_from", ""),
            "last": self.used.get("funnel_to", ""),
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep the letters that reached the step in the days given; refuse a step, day or product that is not one."""
        if not self.used:
            return queryset
        step, product = self.used.get("funnel_step"), self.used.get("funnel_product", "")
        try:
            first = datetime.date.fromisoformat(self.used.get("funnel_from", ""))
            last = datetime.date.fromisoformat(self.used.get("funnel_to", ""))
        except ValueError as exc:
            raise IncorrectLookupParameters(exc) from exc
        if step not in STEP_LABELS or (product and not product.isdigit()):
            raise IncorrectLookupParameters(step)
        kept = reached_step(queryset, step=step, first=first, last=last)
        return kept.filter(case__credit_line__product_id=int(product)) if product else kept


# The rendering states a person looks for, by the filter's value.
RENDERING_STATUSES = {"waiting": LetterStatus.DRAFT, "failed": LetterStatus.RENDER_FAILED}


class RenderingFilter(admin.SimpleListFilter):
    """Keep the letters waiting to be rendered, or those whose rendering failed; each choice says how many."""

    title = _("rendering")
    parameter_name = "rendering"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer both states with their counts among the letters this viewer sees."""
        counts = rendering_counts(model_admin.get_queryset(request))
        return [
            ("waiting", _("Waiting to render (%(count)d)") % {"count": counts["waiting"]}),
            ("failed", _("Rendering failed (%(count)d)") % {"count": counts["failed"]}),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep the letters in the chosen state; refuse a value that is not one."""
        value = self.value()
        if value is None:
            return queryset
        if value not in RENDERING_STATUSES:
            raise IncorrectLookupParameters(value)
        return queryset.filter(status=RENDERING_STATUSES[value])
