"""Reversals from the lending system (a payment bounced or charged back): one, or up to 1,000 at once.

Each reversal is a payment of its own, recorded once by its own external reference. A request is
all or nothing: one bad row refuses it and the response names every bad row. Each reversal
brings its line's case up to date the same day (``backoffice.sameday``): where the line is
overdue again a new case opens; a charged-off line stays charged off. A promise that the
reversed money had kept stays kept, and counts as broken on the line's open case.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import ReversalReason
from accounts.locks import credit_lines_lock
from accounts.models import Payment
from accounts.services import payment_reverse
from backoffice.kernel.api.bulk import bulk_read
from backoffice.kernel.api.errors import django_validation_errors, errors_response
from backoffice.kernel.api.idempotency import IdempotentPost
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.strict import StrictDateTimeField, StrictSerializer
from backoffice.kernel.money import fen_to_yuan
from backoffice.sameday import lines_refresh
from cases.promises.judging import promises_unkept_count

MAX_ROWS = 1000


class ReversalIn(StrictSerializer):
    """A payment taken back: which one (its external reference), the reversal's own reference, why and when."""

    payment = serializers.CharField(max_length=64, help_text="The external reference of the payment reversed.")
    external_reference = serializers.CharField(max_length=64, help_text="The reversal's own reference.")
    reason = serializers.ChoiceField(choices=ReversalReason.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    reversed_at = StrictDateTimeField()


class ReversalOut(serializers.Serializer):
    """A reversal as recorded (its amount negative), and whether this request recorded it or found it recorded."""

    id = serializers.IntegerField()
    credit_line = serializers.CharField()
    payment = serializers.CharField()
    external_reference = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reason = serializers.ChoiceField(choices=ReversalReason.choices)
    replayed = serializers.BooleanField()


def _out(reversal: Payment, original: Payment, replayed: bool) -> dict:
    return {
        "id": reversal.pk,
        "credit_line": original.credit_line.number,
        "payment": original.external_reference,
        "external_reference": reversal.external_reference,
        "amount": str(fen_to_yuan(reversal.amount_fen)),
        "reason": reversal.reversal_reason,
        "replayed": replayed,
    }


class ReversalPost(IdempotentPost, APIView):
    """POST one reversal (an object) or many (a list of up to 1,000)."""

    read_scope, write_scope = None, Scope.LEDGER_WRITE
    queryset = Payment.objects.none()

    @extend_schema(
        tags=["ledger"],
        request=ReversalIn(many=True),
        responses={200: ReversalOut(many=True), 201: ReversalOut(many=True)},
        examples=[
            OpenApiExample(
                "A bounced payment",
                value=[
                    {
                        "payment": "PAY-2026-12-01-0001",
                        "external_reference": "REV-2026-12-03-0001",
                        "reason": "bounced",
                        "note": "退票",
                        "reversed_at": "2026-12-03T09:30:00+08:00",
                    }
                ],
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                value=[
                    {
                        "id": 4812,
                        "credit_line": "CL202600000001",
                        "payment": "PAY-2026-12-01-0001",
                        "external_reference": "REV-2026-12-03-0001",
                        "amount": "-500.00",
                        "reason": "bounced",
                        "replayed": False,
                    }
                ],
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        """Record the reversals, all or none, and bring their lines' cases up to date."""
        size = _("A request carries 1 to %(max)d reversals, not %(n)d.")
        bulk = bulk_read(request.data, ReversalIn, most=MAX_ROWS, size_message=size)
        if bulk.refused:
            return bulk.refused
        rows, validated = bulk.sent, bulk.rows
        references = [row["external_reference"] for row in validated]
        with transaction.atomic():
            known = set(Payment.objects.filter(external_reference__in=references).values_list("pk", flat=True))
            recorded, errors = self._reverse_all(validated, rows)
            if errors:
                transaction.set_rollback(True)
                return errors_response(errors, status.HTTP_400_BAD_REQUEST)
            lines_refresh(line_ids=[original.credit_line_id for _reversal, original in recorded])
            fresh = [original.credit_line_id for reversal, original in recorded if reversal.pk not in known]
            promises_unkept_count(line_ids=fresh)
        out = [_out(reversal, original, reversal.pk in known) for reversal, original in recorded]
        created = any(not row["replayed"] for row in out)
        body = out if isinstance(request.data, list) else out[0]
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _reverse_all(self, rows: list[dict], sent: list) -> tuple[list[tuple[Payment, Payment]], list[dict]]:
        originals = Payment.objects.select_related("credit_line").in_bulk(
            [row["payment"] for row in rows], field_name="external_reference"
        )
        # Every line of the request at once, in id order, as a payment or a night batch locks its
        # lines: reversal by reversal, in the request's order, two lines could be taken the other way.
        credit_lines_lock(line_ids=[original.credit_line_id for original in originals.values()], for_update=True)
        recorded, errors = [], []
        for index, row in enumerate(rows):
            original = originals.get(row["payment"])
            if original is None:
                message = _("No payment has the external reference %(value)r.") % {"value": row["payment"]}
                errors.append(
                    {"index": index, "field": "payment", "value": row["payment"], "code": "unknown", "message": message}
                )
                continue
            try:
                with transaction.atomic():
                    reversal = payment_reverse(
                        payment=original,
                        external_reference=row["external_reference"],
                        reason=row["reason"],
                        reversed_at=row["reversed_at"],
                        note=row["note"],
                        actor=self.request.user,
                    )
            except DjangoValidationError as exc:
                errors.extend(django_validation_errors(exc, sent, index))
                continue
            recorded.append((reversal, original))
        return recorded, errors
