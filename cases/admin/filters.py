"""A list filter several case lists share: days-past-due bands."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cases.choices import DpdBucket

_BUCKET_RANGES = {
    DpdBucket.D1_30: (1, 30),
    DpdBucket.D31_60: (31, 60),
    DpdBucket.D61_90: (61, 90),
    DpdBucket.D91_PLUS: (91, None),
}


class DpdBucketFilter(admin.SimpleListFilter):
    """Filter cases by days-past-due band."""

    title = _("days past due")
    parameter_name = "dpd"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer the bands."""
        return list(DpdBucket.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep cases whose DPD lies in the chosen band."""
        if self.value() not in _BUCKET_RANGES:
            return queryset
        low, high = _BUCKET_RANGES[self.value()]
        queryset = queryset.filter(days_past_due__gte=low)
        return queryset if high is None else queryset.filter(days_past_due__lte=high)
