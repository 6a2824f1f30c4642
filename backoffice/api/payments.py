"""Payments from the lending system: one, or up to 1,000 at once, each recorded once by its external reference.

A request is all or nothing: one bad row refuses it and the response names every bad row. The
request is recorded set-wise (``accounts.ingest.payments_post``), in a fixed number of statements
whatever its size, and the lines it paid have their cases brought up to date the same day, set-wise
too (``backoffice.sameday``).
"""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import PaymentChannel
from accounts.ingest import PaymentRow, PaymentsRefused, Posted, payments_post
from accounts.models import Payment
from backoffice.kernel.api.bulk import bulk_read
from backoffice.kernel.api.errors import errors_response, row_errors
from backoffice.kernel.api.fields import YuanField
from backoffice.kernel.api.idempotency import IdempotentPost
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.strict import StrictDateTimeField, StrictSerializer
from backoffice.kernel.money import fen_to_yuan
from backoffice.sameday import lines_refresh

MAX_ROWS = 1000


class PaymentIn(StrictSerializer):
    """A payment received on a credit line; the amount is yuan as a decimal string."""

    credit_line = serializers.CharField(max_length=32, help_text="The line's contract number.")
    external_reference = serializers.CharField(max_length=64)
    amount = YuanField()
    channel = serializers.ChoiceField(choices=PaymentChannel.choices)
    received_at = StrictDateTimeField()


class PaymentOut(serializers.Serializer):
    """A payment as recorded, and whether this request recorded it or found it recorded before."""

    id = serializers.IntegerField()
    credit_line = serializers.CharField()
    external_reference = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit_left = serializers.DecimalField(max_digits=14, decimal_places=2)
    replayed = serializers.BooleanField()


def _out(payment: Posted) -> dict:
    return {
        "id": payment.payment_id,
        "credit_line": payment.credit_line,
        "external_reference": payment.external_reference,
        "amount": str(fen_to_yuan(payment.amount_fen)),
        "credit_left": str(fen_to_yuan(payment.unallocated_fen)),
        "replayed": payment.replayed,
    }


class PaymentPost(IdempotentPost, APIView):
    """POST one payment (an object) or many (a list of up to 1,000)."""

    read_scope, write_scope = None, Scope.LEDGER_WRITE
    queryset = Payment.objects.none()

    @extend_schema(
        tags=["ledger"],
        request=PaymentIn(many=True),
        responses={200: PaymentOut(many=True), 201: PaymentOut(many=True)},
        examples=[
            OpenApiExample(
                "Two payments",
                value=[
                    {
                        "credit_line": "CL202600000001",
                        "external_reference": "PAY-2026-12-01-0001",
                        "amount": "500.00",
                        "channel": "alipay",
                        "received_at": "2026-12-01T10:00:00+08:00",
                    }
                ],
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Record the payments, all or none, and bring their lines' cases up to date."""
        size = _("A request carries 1 to %(max)d payments, not %(n)d.")
        bulk = bulk_read(request.data, PaymentIn, most=MAX_ROWS, size_message=size)
        if bulk.refused:
            return bulk.refused
        rows, payments = bulk.sent, [PaymentRow(**row) for row in bulk.rows]
        with transaction.atomic():
            try:
                posted = payments_post(rows=payments, actor=request.user)
            except PaymentsRefused as refused:
                return errors_response(row_errors(refused.row_errors, rows), status.HTTP_400_BAD_REQUEST)
            lines_refresh(line_ids=sorted({payment.credit_line_id for payment in posted if not payment.replayed}))
        out = [_out(payment) for payment in posted]
        created = any(not row["replayed"] for row in out)
        body = out if isinstance(request.data, list) else out[0]
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
