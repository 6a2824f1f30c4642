"""A line's bills, as the ledger's own endpoint serves them, plus same-day truth for an amendment.

An amended bill changes what the line owes (an amendment below what was paid moves the money to
the line's other bills), so its case is brought up to date at once, in the amendment's
transaction; the ledger's view knows nothing of cases, so the refresh is added here.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import api as ledger
from backoffice.sameday import lines_refresh


@extend_schema(tags=["ledger"])
class BillList(ledger.BillList):
    """A line's bills; POST creates the bill due on a date or amends its amounts (with a reason)."""

    @extend_schema(request=ledger.BillSerializer, responses={200: ledger.BillSerializer, 201: ledger.BillSerializer})
    def post(self, request: Request, number: str) -> Response:
        """Create or amend the bill due on the date sent; after an amendment, refresh the line's case."""
        with transaction.atomic():
            response = super().post(request, number)
            if response.status_code == status.HTTP_200_OK:
                lines_refresh(line_ids=[self.line().pk])
        return response
