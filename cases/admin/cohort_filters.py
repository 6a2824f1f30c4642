"""The case list's stage-entry cohort filter: the cases that entered a stage between two dates.

The recovery report's drill-down. A case enters the reminder stage on the day it opens and collection or
legal on the day it climbs to them (a return from a hold is no entry); a stage change is dated by the
business date of the run that made it, or by the day a person made it, as the reports' night counts it.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin import DrillDownFilter
from cases.casework.models import CaseTransition
from cases.choices import LADDER, Stage


def entered_stage(queryset: QuerySet, *, stage: str, first: datetime.date, last: datetime.date) -> QuerySet:
    """Keep the cases of ``queryset`` that entered ``stage`` on a day from ``first`` to ``last``."""
    if stage == LADDER[0]:
        return queryset.filter(opened_on__range=(first, last))
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    climbs = CaseTransition.objects.filter(case=OuterRef("pk"), to_stage=stage, from_stage__in=LADDER[:-1]).filter(
        Q(run__as_of__range=(first, last)) | Q(run__isnull=True, created_at__gte=start, created_at__lt=end)
    )
    return queryset.filter(Exists(climbs))


class StageEntryFilter(DrillDownFilter):
    """Filter cases by the stage they entered and the days they entered it (``entered_stage``, ``entered_from``,
    ``entered_to``, both days included)."""

    title = _("entered a stage")
    parameters = ("entered_stage", "entered_from", "entered_to")

    def described(self) -> str:
        """Say what the filter keeps now."""
        return _("%(stage)s, %(first)s to %(last)s") % {
            "stage": dict(Stage.choices).get(self.used.get("entered_stage"), self.used.get("entered_stage", "")),
            "first": self.used.get("entered_from", ""),
            "last": self.used.get("entered_to", ""),
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep the cases that entered the stage in the days given; refuse a stage or a day that is not one."""
        if not self.used:
            return queryset
        stage = self.used.get("entered_stage")
        try:
            first = datetime.date.fromisoformat(self.used.get("entered_from", ""))
            last = datetime.date.fromisoformat(self.used.get("entered_to", ""))
        except ValueError as exc:
            raise IncorrectLookupParameters(exc) from exc
        if stage not in LADDER:
            raise IncorrectLookupParameters(stage)
        return entered_stage(queryset, stage=stage, first=first, last=last)
