"""The ledger's own API: customers, credit lines and bills, upserted by their natural keys, and read back.

Writes come from API clients with ``ledger:write`` and go through the ledger's services; reads
are open to ``ledger:read`` clients and to people under the admin's own access rules (the admin's
queryset is the one access helper). Personal numbers are masked unless the caller may see them.
Payments live above the ledger (they refresh cases): ``backoffice.api``.
"""

from decimal import Decimal

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.choices import CreditLineStatus, Language
from accounts.models import ADDRESS_MAX_LENGTH, Bill, CreditLine, Customer
from accounts.services import CUSTOMER_FIELDS, bill_upsert, credit_line_upsert, customer_upsert
from accounts.validators import mask_mobile, mask_national_id
from backoffice.kernel.api.access import readable
from backoffice.kernel.api.auth import may_see_full_numbers
from backoffice.kernel.api.fields import YuanField
from backoffice.kernel.api.idempotency import IdempotentPost
from backoffice.kernel.api.pagination import IdCursorPagination
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.strict import StrictSerializer
from backoffice.kernel.money import fen_to_yuan

MONEY = {"max_digits": 14, "decimal_places": 2}


class CustomerSerializer(StrictSerializer):
    """A customer, keyed by national ID; ID and mobile come back masked unless the caller may see them."""

    id = serializers.IntegerField(read_only=True)
    national_id = serializers.CharField(max_length=18)
    name = serializers.CharField(max_length=100)
    mobile = serializers.CharField(max_length=11)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True, max_length=ADDRESS_MAX_LENGTH)
    preferred_language = serializers.ChoiceField(choices=Language.choices, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    consents_to_calls = serializers.BooleanField(required=False)
    consents_to_sms = serializers.BooleanField(required=False)
    consents_to_email = serializers.BooleanField(required=False)
    consents_to_push = serializers.BooleanField(required=False)
    do_not_contact = serializers.BooleanField(required=False)
    vulnerable = serializers.BooleanField(required=False)

    def to_representation(self, instance: Customer) -> dict:
        """Mask the numbers for callers who may not see them."""
        data = super().to_representation(instance)
        if not may_see_full_numbers(self.context["request"]):
            data["national_id"], data["mobile"] = mask_national_id(instance.national_id), mask_mobile(instance.mobile)
        return data


class CreditLineSerializer(StrictSerializer):
    """A credit line, keyed by its contract number. The lender owns its limit and whether it is closed."""

    number = serializers.CharField(max_length=32)
    customer_national_id = serializers.CharField(max_length=18, write_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    product = serializers.CharField(source="product.code", max_length=32)
    limit = YuanField()
    closed = serializers.BooleanField(required=False, default=False, write_only=True)
    status = serializers.ChoiceField(choices=CreditLineStatus.choices, read_only=True)
    opened_on = serializers.DateField()

    def to_representation(self, instance: CreditLine) -> dict:
        """Give the limit in yuan."""
        instance.limit = fen_to_yuan(instance.limit_fen)
        return super().to_representation(instance)


class BillSerializer(StrictSerializer):
    """A bill of a line, keyed by its due date; amounts are yuan as decimal strings. An amendment needs a reason."""

    due_date = serializers.DateField()
    principal_due = YuanField()
    interest_due = YuanField(required=False, default=Decimal("0"))
    fees_due = YuanField(required=False, default=Decimal("0"))
    reason = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=500)
    principal_paid = serializers.DecimalField(**MONEY, read_only=True)
    interest_paid = serializers.DecimalField(**MONEY, read_only=True)
    fees_paid = serializers.DecimalField(**MONEY, read_only=True)

    def to_representation(self, instance: Bill) -> dict:
        """Give every amount in yuan."""
        for part in ("principal", "interest", "fees"):
            for kind in ("due", "paid"):
                setattr(instance, f"{part}_{kind}", fen_to_yuan(getattr(instance, f"{part}_{kind}_fen")))
        return super().to_representation(instance)


def _created_or_updated(serializer: serializers.Serializer, obj: object, created: bool) -> Response:
    return Response(
        serializer.to_representation(obj), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


@extend_schema(tags=["ledger"])
class CustomerList(IdempotentPost, generics.ListAPIView):
    """List customers; POST creates one or updates it by its national ID."""

    queryset = Customer.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = CustomerSerializer
    pagination_class = IdCursorPagination
    read_scope, write_scope = Scope.LEDGER_READ, Scope.LEDGER_WRITE

    def get_queryset(self) -> QuerySet:
        """The customers the caller may read."""
        return readable(self.request, Customer).order_by("id")

    @extend_schema(
        request=CustomerSerializer,
        responses={200: CustomerSerializer, 201: CustomerSerializer},
        examples=[
            OpenApiExample(
                "A new customer",
                value={"national_id": "110101199003074514", "name": "王伟", "mobile": "13812345678"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Create the customer with this national ID, or update the fields sent."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        details = {key: value for key, value in serializer.validated_data.items() if key in CUSTOMER_FIELDS}
        customer, created = customer_upsert(
            national_id=serializer.validated_data["national_id"], actor=request.user, **details
        )
        return _created_or_updated(serializer, customer, created)


@extend_schema(tags=["ledger"])
class CustomerDetail(generics.RetrieveAPIView):
    """One customer, by id."""

    queryset = Customer.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = CustomerSerializer
    read_scope = Scope.LEDGER_READ

    def get_queryset(self) -> QuerySet:
        """The customers the caller may read."""
        return readable(self.request, Customer)


@extend_schema(tags=["ledger"])
class CreditLineList(IdempotentPost, generics.ListAPIView):
    """List credit lines; POST opens one or updates its limit and open/closed status by its contract number."""

    queryset = CreditLine.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = CreditLineSerializer
    pagination_class = IdCursorPagination
    read_scope, write_scope = Scope.LEDGER_READ, Scope.LEDGER_WRITE

    def get_queryset(self) -> QuerySet:
        """The lines the caller may read."""
        return readable(self.request, CreditLine).select_related("product").order_by("id")

    @extend_schema(
        request=CreditLineSerializer,
        responses={200: CreditLineSerializer, 201: CreditLineSerializer},
    )
    def post(self, request: Request) -> Response:
        """Open the line with this number, or update it."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = Customer.objects.filter(national_id=data["customer_national_id"].strip().upper()).first()
        if customer is None:
            raise serializers.ValidationError(
                {"customer_national_id": [_("No customer has this national ID: send the customer first.")]}
            )
        line, created = credit_line_upsert(
            number=data["number"],
            customer=customer,
            product_code=data["product"]["code"],
            limit=data["limit"],
            opened_on=data["opened_on"],
            closed=data["closed"],
            actor=request.user,
        )
        return _created_or_updated(serializer, line, created)


@extend_schema(tags=["ledger"])
class CreditLineDetail(generics.RetrieveAPIView):
    """One credit line, by its contract number."""

    queryset = CreditLine.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = CreditLineSerializer
    read_scope = Scope.LEDGER_READ
    lookup_field = "number"

    def get_queryset(self) -> QuerySet:
        """The lines the caller may read."""
        return readable(self.request, CreditLine).select_related("product")


@extend_schema(tags=["ledger"])
class BillList(IdempotentPost, generics.ListAPIView):
    """A line's bills; POST creates the bill due on a date or amends its amounts (with a reason)."""

    queryset = Bill.objects.none()  # the schema's model; rows come from get_queryset
    serializer_class = BillSerializer
    pagination_class = IdCursorPagination
    read_scope, write_scope = Scope.LEDGER_READ, Scope.LEDGER_WRITE

    def line(self) -> CreditLine:
        """The line of the URL, among those the caller may read."""
        return get_object_or_404(readable(self.request, CreditLine), number=self.kwargs["number"])

    def get_queryset(self) -> QuerySet:
        """The bills of the line."""
        return Bill.objects.filter(credit_line=self.line()).order_by("id")

    @extend_schema(request=BillSerializer, responses={200: BillSerializer, 201: BillSerializer})
    def post(self, request: Request, number: str) -> Response:
        """Create or amend the bill due on the date sent."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        bill, created = bill_upsert(
            credit_line=self.line(),
            due_date=data["due_date"],
            amounts={name: data[name] for name in ("principal_due", "interest_due", "fees_due")},
            reason=data.get("reason", ""),
            actor=request.user,
        )
        return _created_or_updated(serializer, bill, created)
