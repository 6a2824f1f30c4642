"""List filters several lists share: days-past-due bands and month buckets, and product or policy."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Product
from backoffice.kernel.admin_lookups import row_id
from cases.choices import DpdBucket
from cases.dunning.models import DunningPolicy

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


# The managers' month buckets by days past due (M0 is current and has no case); the reports' buckets agree.
MONTH_BUCKET_RANGES = {
    "M1": (1, 30),
    "M2": (31, 60),
    "M3": (61, 90),
    "M4": (91, 120),
    "M5": (121, 150),
    "M6": (151, 180),
    "M7": (181, None),
}


class MonthBucketFilter(admin.SimpleListFilter):
    """Filter cases by the month bucket M1 to M7+, the reports' drill-down into the case list."""

    title = _("bucket (M1–M7+)")
    parameter_name = "bucket"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer the buckets with their days past due."""
        return [
            (
                name,
                f"{name} ({low}–{high})" if high else _("%(name)s (over %(days)d)") % {"name": name, "days": low - 1},
            )
            for name, (low, high) in MONTH_BUCKET_RANGES.items()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep cases whose DPD lies in the chosen bucket."""
        if self.value() not in MONTH_BUCKET_RANGES:
            return queryset
        low, high = MONTH_BUCKET_RANGES[self.value()]
        queryset = queryset.filter(days_past_due__gte=low)
        return queryset if high is None else queryset.filter(days_past_due__lte=high)


class ProductPolicyFilter(admin.SimpleListFilter):
    """Filter rows of credit lines (cases, messages) by product or by dunning policy.

    Both are listed from one query of the (small) product table.
    """

    title = _("product or policy")
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer each product, then each policy the products use."""
        products = list(Product.objects.select_related("policy").order_by("code"))
        policies = {product.policy_id: product.policy for product in products}
        return [(f"p{product.pk}", str(product)) for product in products] + [
            (f"d{policy.pk}", _("Policy: %(name)s") % {"name": policy}) for policy in policies.values()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep rows on the chosen product, or on any product of the chosen policy (none for an id no row can have)."""
        value = self.value() or ""
        kind, model = {
            "p": ("credit_line__product_id", Product),
            "d": ("credit_line__product__policy_id", DunningPolicy),
        }.get(value[:1], (None, None))
        if kind is None or not value[1:].isdigit():
            return queryset
        pk = row_id(model, value[1:])
        return queryset.none() if pk is None else queryset.filter(**{kind: pk})
