"""Cases for the lending system to read: a filtered list in cursor pages (no count), and one case with its
position and its transitions. People read them under the admin's rules (the case admin's rows, ``visible_to``)."""

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from accounts.positions import line_balance
from backoffice.kernel.api.access import readable
from backoffice.kernel.api.pagination import IdCursorPagination
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.money import fen_to_yuan
from cases.casework.models import Case, CaseTransition
from cases.choices import Stage

MAX_ID = 10**18 - 1  # as the URLs' ids: no value overflows a 64-bit column


class CaseFilter(django_filters.FilterSet):
    """Filters of the case list."""

    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    dpd_min = django_filters.NumberFilter(field_name="days_past_due", lookup_expr="gte", min_value=0, max_value=100_000)
    dpd_max = django_filters.NumberFilter(field_name="days_past_due", lookup_expr="lte", min_value=0, max_value=100_000)
    product = django_filters.CharFilter(field_name="credit_line__product__code")
    agency = django_filters.NumberFilter(field_name="agency_id", min_value=1, max_value=MAX_ID)
    credit_line = django_filters.CharFilter(field_name="credit_line__number")
    changed_since = django_filters.IsoDateTimeFilter(
        field_name="changed_at",
        lookup_expr="gte",
        help_text=(
            "ISO 8601 date and time (2026-12-01T08:00:00+08:00): every case whose stage, days past due, "
            "balance, hold, assignee or agency changed at or after it."
        ),
    )

    class Meta:
        model = Case
        fields = ["stage", "dpd_min", "dpd_max", "product", "agency", "credit_line", "changed_since"]


class TransitionSerializer(serializers.ModelSerializer):
    """One stage change."""

    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = CaseTransition
        fields = ["from_stage", "to_stage", "reason", "actor", "run", "created_at"]


class CaseSerializer(serializers.ModelSerializer):
    """A case as last computed: its stage, days past due and overdue balance (yuan)."""

    number = serializers.CharField()
    credit_line = serializers.CharField(source="credit_line.number")
    balance = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "credit_line",
            "stage",
            "days_past_due",
            "balance",
            "hold_reason",
            "hold_until",
            "agency",
            "opened_on",
            "closed_at",
            "changed_at",
        ]

    def get_balance(self, case: Case) -> str:
        """The overdue balance as last computed, in yuan."""
        return str(fen_to_yuan(case.balance_fen))


class CaseDetailSerializer(CaseSerializer):
    """A case with what its line owes today, per component, and every stage change."""

    overdue_now = serializers.SerializerMethodField()
    transitions = TransitionSerializer(many=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "overdue_now", "transitions"]

    def get_overdue_now(self, case: Case) -> dict[str, str]:
        """What is overdue on the line today, per component and in all (yuan), from the ledger."""
        overdue = line_balance(credit_line_id=case.credit_line_id, as_of=timezone.localdate()).overdue
        return {
            **{name: str(fen_to_yuan(fen)) for name, fen in overdue.owed.items()},
            "total": str(fen_to_yuan(overdue.total_fen)),
        }


@extend_schema(tags=["cases"], responses={200: CaseSerializer(many=True)})
class CaseList(generics.ListAPIView):
    """Cases, in id order, filtered; cursor pages (``?cursor=``), never counted."""

    queryset = Case.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = CaseSerializer
    pagination_class = IdCursorPagination
    filterset_class = CaseFilter
    read_scope = Scope.CASES_READ

    def get_queryset(self) -> QuerySet:
        """The cases the caller may see."""
        return readable(self.request, Case).select_related("credit_line").order_by("id")


@extend_schema(tags=["cases"], responses={200: CaseDetailSerializer})
class CaseDetail(generics.RetrieveAPIView):
    """One case, with its position today and its transitions."""

    queryset = Case.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = CaseDetailSerializer
    read_scope = Scope.CASES_READ

    def get_queryset(self) -> QuerySet:
        """The cases the caller may see."""
        return readable(self.request, Case).select_related("credit_line").prefetch_related("transitions__actor")
