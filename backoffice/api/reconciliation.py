"""The reconciliation for the lender's systems: ``GET /api/v1/reconciliation/?date=`` (or ``?from=&to=``), what came
in and what went out per business day (``backoffice.reconciliation.report``)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.events import EventType
from backoffice.kernel.money import fen_to_yuan
from backoffice.reconciliation.report import (
    MAX_DAYS,
    PERMISSION,
    DayFigures,
    Reconciliation,
    check_range,
    reconciliation_report,
)


class ReconciliationQuery(serializers.Serializer):
    """One day (``date``), or a range of at most 31 days (``from`` and ``to``, both included); today by default."""

    def get_fields(self) -> dict[str, serializers.Field]:
        """``from`` is a Python keyword, so the fields are named here."""
        return {name: serializers.DateField(required=False) for name in ("date", "from", "to")}

    def validate(self, attrs: dict) -> dict:
        """Take one day or a range, never both, and check the range."""
        if "date" in attrs and ({"from", "to"} & set(attrs)):
            name = "from" if "from" in attrs else "to"
            raise serializers.ValidationError({name: _("Ask for one day (date) or a range (from, to), not both.")})
        first = attrs.get("date") or attrs.get("from") or attrs.get("to") or timezone.localdate()
        last = attrs.get("date") or attrs.get("to") or first
        try:
            check_range(first=first, last=last)
        except DjangoValidationError as exc:
            if "date" not in attrs:
                raise
            raise serializers.ValidationError({"date": exc.messages}) from None
        return {"first": first, "last": last}


def _in(figures: DayFigures) -> dict:
    return {
        "customers": figures.customers,
        "credit_lines": figures.credit_lines,
        "bills": {"new": figures.bills_new, "amended": figures.bills_amended},
        "payments": {"count": figures.payments, "amount": str(fen_to_yuan(figures.payments_fen))},
        "reversals": {"count": figures.reversals, "amount": str(fen_to_yuan(figures.reversals_fen))},
    }


def _figures(figures: DayFigures) -> dict:
    return {"in": _in(figures), "out": {"events": dict(figures.events)}}


def reconciliation_json(report: Reconciliation) -> dict:
    """The report as the API answers it."""
    return {
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "time_zone": report.time_zone,
        "days": [{"date": day.day.isoformat(), **_figures(day)} for day in report.days],
        "totals": _figures(report.totals),
    }


_COUNT_AND_AMOUNT = {
    "count": serializers.IntegerField(),
    "amount": serializers.DecimalField(max_digits=16, decimal_places=2),
}
FIGURES = {
    "in": inline_serializer(
        "ReconciliationIn",
        {
            "customers": serializers.IntegerField(help_text="Customers that came in (created)."),
            "credit_lines": serializers.IntegerField(help_text="Credit lines that came in (created)."),
            "bills": inline_serializer(
                "ReconciliationBills",
                {
                    "new": serializers.IntegerField(help_text="Bills created."),
                    "amended": serializers.IntegerField(help_text="Amendments of bills (each with its reason)."),
                },
            ),
            "payments": inline_serializer(
                "ReconciliationPayments",
                _COUNT_AND_AMOUNT,
                help_text="Payments by the time they were recorded here, not received; amount in yuan.",
            ),
            "reversals": inline_serializer(
                "ReconciliationReversals",
                _COUNT_AND_AMOUNT,
                help_text="Reversals by the time they were recorded; amount in yuan as recorded (negative).",
            ),
        },
    ),
    "out": inline_serializer(
        "ReconciliationOut",
        {
            "events": inline_serializer(
                "ReconciliationEvents",
                {kind: serializers.IntegerField() for kind in EventType.values},
                help_text="Events that occurred, by type; every type, zeros included.",
            )
        },
    ),
}
DAY = inline_serializer("ReconciliationDay", {"date": serializers.DateField(), **FIGURES})
REPORT = inline_serializer(
    "Reconciliation",
    {
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "time_zone": serializers.CharField(help_text="The business days are local dates in this zone."),
        "days": serializers.ListField(child=DAY),
        "totals": inline_serializer("ReconciliationTotals", FIGURES),
    },
)

_EXAMPLE_FIGURES = {
    "in": {
        "customers": 2,
        "credit_lines": 2,
        "bills": {"new": 3, "amended": 1},
        "payments": {"count": 4, "amount": "2150.00"},
        "reversals": {"count": 1, "amount": "-500.00"},
    },
    "out": {"events": {kind: {"case.opened": 1, "case.resolved": 2}.get(kind, 0) for kind in EventType.values}},
}


class ReconciliationView(APIView):
    """Per business day, what came in (customers, lines, bills new and amended, payments, reversals) and what
    went out (events by type), so that both sides can prove nothing was lost."""

    read_scope = Scope.LEDGER_READ
    view_permission = PERMISSION

    @extend_schema(
        tags=["ledger"],
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="One business day (today without any)."),
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description=f"The first day of a range of at most {MAX_DAYS} days."
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description="The last day of the range, included."),
        ],
        responses={200: REPORT},
        examples=[
            OpenApiExample(
                "One day",
                value={
                    "from": "2026-12-01",
                    "to": "2026-12-01",
                    "time_zone": "Asia/Shanghai",
                    "days": [{"date": "2026-12-01", **_EXAMPLE_FIGURES}],
                    "totals": _EXAMPLE_FIGURES,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        """The report for ``date``, or for ``from`` to ``to``; today's without either."""
        query = ReconciliationQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(reconciliation_json(reconciliation_report(**query.validated_data)))
