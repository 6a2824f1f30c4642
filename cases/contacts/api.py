"""Contacts made outside the back office (a telephony system's call records), sent in bulk by an API client.

The rules are the contact import's (``cases.contacts.imports``), row for row: the same validator
and the same store step. A request is all or nothing: one bad row refuses it, every bad row named.
A contact that broke a collection rule already happened, so it is stored and opens an incident.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.kernel.api.errors import errors_response, serializer_errors
from backoffice.kernel.api.idempotency import IdempotentPost
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.strict import StrictDateTimeField, StrictSerializer
from cases.contacts.imports import RowError, contact_rows_check, contacts_store
from cases.contacts.models import Contact

MAX_ROWS = 1000


class ContactIn(StrictSerializer):
    """A contact made elsewhere; the fields and their values are the contact import's columns."""

    case = serializers.CharField(max_length=64, help_text="A case number, or a credit line's contract number.")
    occurred_at = StrictDateTimeField(help_text="ISO 8601 with its offset, such as 2026-03-02T14:30:00+08:00.")
    channel = serializers.CharField(max_length=64)
    outcome = serializers.CharField(max_length=64)
    direction = serializers.CharField(max_length=64, required=False, allow_blank=True)
    party = serializers.CharField(max_length=64, required=False, allow_blank=True)
    phone_number = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="A mainland mobile or fixed-line number, with or without +86: 13800138000, 010-62345678.",
    )
    agent = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        help_text=(
            "The username of a back-office user who may log contacts (collection agent, agency agent or "
            "supervisor), who made the contact; one deactivated since is still named."
        ),
    )
    identity_disclosed = serializers.BooleanField(required=False, default=False)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    recording_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StoredContactOut(serializers.Serializer):
    """A stored contact: the row it came from, its id, and the rules it broke (one incident each)."""

    index = serializers.IntegerField()
    id = serializers.IntegerField()
    case = serializers.CharField()
    incidents = serializers.ListField(child=serializers.CharField(), help_text="Rule codes of the incidents opened.")


class ContactsOut(serializers.Serializer):
    """What the request stored, and the incidents it opened by rule code."""

    contacts = StoredContactOut(many=True)
    incidents = serializers.DictField(child=serializers.IntegerField())


def _as_text(row: dict) -> dict[str, str]:
    text = {name: value for name, value in row.items() if name not in ("identity_disclosed", "occurred_at")}
    return {
        **text,
        "occurred_at": row["occurred_at"].isoformat(),
        "identity_disclosed": "yes" if row["identity_disclosed"] else "no",
    }


def _error(error: RowError) -> dict:
    return {"index": error.row, "field": error.field, "value": error.value, "code": "invalid", "message": error.problem}


class ContactsPost(IdempotentPost, APIView):
    """POST up to 1,000 contacts made elsewhere, all or none."""

    read_scope, write_scope = None, Scope.CONTACTS_WRITE
    queryset = Contact.objects.none()

    @extend_schema(
        tags=["cases"],
        request=ContactIn(many=True),
        responses={201: ContactsOut},
        examples=[
            OpenApiExample(
                "A call record",
                value=[
                    {
                        "case": "C00000042",
                        "occurred_at": "2026-03-02T14:30:00+08:00",
                        "channel": "call",
                        "outcome": "connected",
                        "agent": "agent1",
                        "identity_disclosed": True,
                        "recording_reference": "REC-2026-03-02-0001",
                    }
                ],
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Store the contacts, each opening an incident for every rule it broke, or refuse them all."""
        rows = request.data
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_ROWS:
            count = len(rows) if isinstance(rows, list) else None
            message = _("A request carries a list of 1 to %(max)d contacts.") % {"max": MAX_ROWS}
            return errors_response(
                [{"index": None, "field": None, "value": count, "code": "size", "message": message}], 400
            )
        serializer = ContactIn(data=rows, many=True)
        if not serializer.is_valid():
            return errors_response(serializer_errors(serializer.errors, rows), status.HTTP_400_BAD_REQUEST)
        raw_rows = [(index, _as_text(row)) for index, row in enumerate(serializer.validated_data)]
        # The scope is the permission: the client reports for every case and agent, as the system does.
        checked, errors = contact_rows_check(raw_rows=raw_rows, actor=None)
        if errors:
            return errors_response([_error(error) for error in errors], status.HTTP_400_BAD_REQUEST)
        result = contacts_store(rows=checked, actor=request.user, scope_checked=True)
        contacts = [
            {"index": stored.row, "id": stored.contact.pk, "case": rows[stored.row]["case"], "incidents": stored.rules}
            for stored in result.stored
        ]
        return Response({"contacts": contacts, "incidents": result.incidents}, status=status.HTTP_201_CREATED)
