"""The credit ledger: the single source of truth for who owes what.

Money is stored as integer fen (``*_fen`` fields) and converted to ``Decimal`` yuan only
at the edges, because SQLite would otherwise compare and sum decimals in floating point.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.choices import CreditLineStatus, Currency, Language, PaymentChannel, ReversalReason
from accounts.validators import (
    mask_mobile,
    mask_national_id,
    validate_line_number,
    validate_mobile,
    validate_national_id,
    validate_time_zone,
)
from backoffice.kernel.money import format_yuan

# Longest postal address taken: a Chinese address with its building and room fits in a fraction of it.
ADDRESS_MAX_LENGTH = 500
# What the retention policy writes in place of personal data it no longer keeps (fits every field it replaces).
ANONYMISED = "ANONYMISED"


def _time_zone_default() -> str:
    return settings.TIME_ZONE


class Customer(models.Model):
    """A borrower. ID and mobile are stored whole and shown masked to everyone; a reveal is recorded.

    ``anonymised_at`` is set when the retention policy replaced the personal data by ``ANONYMISED``
    (``purge_personal_data``); the ledger's rows and sums stay.
    """

    name = models.CharField(_("name"), max_length=100)
    national_id = models.CharField(
        _("national ID number"), max_length=18, unique=True, validators=[validate_national_id]
    )
    mobile = models.CharField(_("mobile"), max_length=11, db_index=True, validators=[validate_mobile])
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.TextField(_("postal address"), blank=True, validators=[MaxLengthValidator(ADDRESS_MAX_LENGTH)])
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.CHINESE
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=_time_zone_default, validators=[validate_time_zone]
    )
    consents_to_calls = models.BooleanField(_("consents to calls"), default=True)
    consents_to_sms = models.BooleanField(_("consents to SMS"), default=True)
    consents_to_email = models.BooleanField(_("consents to e-mail"), default=True)
    consents_to_push = models.BooleanField(_("consents to app push"), default=True, db_default=True)
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    vulnerable = models.BooleanField(
        _("hardship or vulnerability"), default=False, help_text=_("Handle with the hardship procedure.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    anonymised_at = models.DateTimeField(
        _("anonymised at"),
        null=True,
        blank=True,
        help_text=_("When the retention policy replaced this customer's personal data by a marker."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # What came in on a day (the reconciliation): a range of this index, never the whole table.
        indexes = [models.Index(fields=["created_at"], name="customer_created_at")]
        # No permission shows full numbers: a reveal (with a reason) or a search by the whole number does,
        # and each is recorded.
        permissions = [("reveal_personal_data", _("Can reveal a full ID or mobile number, with a reason"))]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_national_id(self) -> str:
        """Return the ID number as agents see it."""
        return mask_national_id(self.national_id)

    @property
    def masked_mobile(self) -> str:
        """Return the mobile number as agents see it."""
        return mask_mobile(self.mobile)


class Product(models.Model):
    """A credit product, and the dunning policy its overdue lines follow."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    policy = models.ForeignKey(
        "cases.DunningPolicy", verbose_name=_("dunning policy"), on_delete=models.PROTECT, related_name="products"
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CreditLine(models.Model):
    """A customer's credit line on one product."""

    number = models.CharField(_("contract number"), max_length=32, unique=True, validators=[validate_line_number])
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="credit_lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="credit_lines"
    )
    limit_fen = models.BigIntegerField(_("limit (fen)"))
    status = models.CharField(
        _("status"), max_length=12, choices=CreditLineStatus.choices, default=CreditLineStatus.ACTIVE
    )
    opened_on = models.DateField(_("opened on"))
    # The database's clock for rows loaded in bulk (the ORM sets the same instant itself).
    created_at = models.DateTimeField(
        _("received at"), auto_now_add=True, db_default=Now(), help_text=_("When the line came in.")
    )
    # Collections' own fact, apart from the lender's open/closed status: the lender closing and
    # reopening a line must not lift a freeze that collections still holds.
    held_frozen = models.BooleanField(
        _("frozen by collections"),
        default=False,
        db_default=False,  # rows loaded in bulk (COPY) leave it out
        help_text=_("Collections froze this line and has not lifted the freeze; reopening it returns it to frozen."),
    )

    class Meta:
        verbose_name = _("credit line")
        verbose_name_plural = _("credit lines")
        constraints = [models.CheckConstraint(condition=Q(limit_fen__gte=0), name="credit_line_limit_not_negative")]
        indexes = [models.Index(fields=["created_at"], name="credit_line_created_at")]

    def __str__(self) -> str:
        return self.number

    @property
    def limit_display(self) -> str:
        """Return the limit as yuan."""
        return format_yuan(self.limit_fen)


# A bill with anything left to pay. The partial index below and the dunning run's SQL use
# this exact predicate, so that PostgreSQL can prove the index applies.
UNPAID = (
    Q(principal_paid_fen__lt=F("principal_due_fen"))
    | Q(interest_paid_fen__lt=F("interest_due_fen"))
    | Q(fees_paid_fen__lt=F("fees_due_fen"))
)
UNPAID_SQL = (
    "(b.principal_paid_fen < b.principal_due_fen OR b.interest_paid_fen < b.interest_due_fen"
    " OR b.fees_paid_fen < b.fees_due_fen)"
)


class BillQuerySet(models.QuerySet):
    """Named reads over bills."""

    def unpaid(self) -> "BillQuerySet":
        """Bills with anything left to pay, today."""
        return self.filter(UNPAID)

    def oldest_first(self) -> "BillQuerySet":
        """Order as payments are allocated: oldest due date first."""
        return self.order_by("due_date", "id")


class Bill(models.Model):
    """One statement or instalment, with what is due and what has been paid per component."""

    # No index of its own: the unique (line, due date) index serves every lookup by line.
    credit_line = models.ForeignKey(
        CreditLine, verbose_name=_("credit line"), on_delete=models.PROTECT, related_name="bills", db_index=False
    )
    due_date = models.DateField(_("due date"))
    principal_due_fen = models.BigIntegerField(_("principal due (fen)"))
    interest_due_fen = models.BigIntegerField(_("interest due (fen)"), default=0)
    fees_due_fen = models.BigIntegerField(_("fees due (fen)"), default=0)
    principal_paid_fen = models.BigIntegerField(_("principal paid (fen)"), default=0)
    interest_paid_fen = models.BigIntegerField(_("interest paid (fen)"), default=0)
    fees_paid_fen = models.BigIntegerField(_("fees paid (fen)"), default=0)
    last_paid_on = models.DateField(
        _("last paid on"), null=True, blank=True, help_text=_("Business date of the last payment applied.")
    )
    created_at = models.DateTimeField(
        _("received at"), auto_now_add=True, db_default=Now(), help_text=_("When the bill came in.")
    )

    objects = BillQuerySet.as_manager()
    # A bill's history is read by bill and by time; an index by line would cost every payment a write.
    history = HistoricalRecords(no_db_index=["credit_line"])

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        constraints = [
            models.UniqueConstraint(fields=["credit_line", "due_date"], name="bill_one_per_line_and_due_date"),
            models.CheckConstraint(
                condition=Q(principal_due_fen__gte=0) & Q(interest_due_fen__gte=0) & Q(fees_due_fen__gte=0),
                name="bill_amounts_due_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(principal_paid_fen__gte=0)
                & Q(interest_paid_fen__gte=0)
                & Q(fees_paid_fen__gte=0)
                & Q(principal_paid_fen__lte=F("principal_due_fen"))
                & Q(interest_paid_fen__lte=F("interest_due_fen"))
                & Q(fees_paid_fen__lte=F("fees_due_fen")),
                name="bill_paid_between_zero_and_due",
            ),
        ]
        indexes = [
            # Unpaid bills only: the dunning run reads these every night, and in a healthy
            # portfolio they are a small part of all bills ever issued.
            models.Index(fields=["credit_line", "due_date"], condition=UNPAID, name="bill_unpaid_by_line"),
            models.Index(fields=["last_paid_on"], name="bill_last_paid_on"),
            models.Index(fields=["created_at"], name="bill_created_at"),
            # The bills due on one date, as the night's entry rate reads them (four dates a night).
            models.Index(fields=["due_date"], name="bill_due_date"),
        ]

    def __str__(self) -> str:
        return f"{self.credit_line_id} / {self.due_date}"

    @property
    def total_due_fen(self) -> int:
        """Return everything billed on this statement."""
        return self.principal_due_fen + self.interest_due_fen + self.fees_due_fen

    @property
    def total_paid_fen(self) -> int:
        """Return everything paid against this statement."""
        return self.principal_paid_fen + self.interest_paid_fen + self.fees_paid_fen

    @property
    def outstanding_fen(self) -> int:
        """Return what is left to pay today."""
        return self.total_due_fen - self.total_paid_fen


class Payment(models.Model):
    """Money received on a credit line, recorded once per external reference.

    A reversal (a payment bounced or charged back) is a payment of its own, with its own
    reference: its amount, allocations and credit are the negatives of the original's, dated at
    the reversal, so that every sum over payments and allocations nets the two out.
    """

    credit_line = models.ForeignKey(
        CreditLine, verbose_name=_("credit line"), on_delete=models.PROTECT, related_name="payments"
    )
    # Unique by a constraint, not ``unique=True``: that would add a second (pattern) index no lookup uses.
    external_reference = models.CharField(_("external reference"), max_length=64)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    unallocated_fen = models.BigIntegerField(
        _("credit left (fen)"), default=0, help_text=_("Overpayment kept as credit on the line.")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=PaymentChannel.choices)
    received_at = models.DateTimeField(_("received at"))
    received_on = models.DateField(_("business date"))
    recorded_at = models.DateTimeField(
        _("recorded at"),
        auto_now_add=True,
        help_text=_("When the payment came in; the reconciliation counts payments by it, not by the time received."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reversal_of = models.OneToOneField(
        "self",
        verbose_name=_("reversal of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    reversal_reason = models.CharField(_("reversal reason"), max_length=16, choices=ReversalReason.choices, blank=True)
    reversal_note = models.TextField(_("reversal note"), blank=True)

    # A payment's history is read by payment and by time; more indexes would cost every payment writes.
    history = HistoricalRecords(no_db_index=["credit_line", "external_reference", "recorded_by", "reversal_of"])

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["external_reference"], name="payment_one_per_reference"),
            models.CheckConstraint(
                condition=Q(reversal_of__isnull=True, amount_fen__gt=0, reversal_reason="")
                | Q(reversal_of__isnull=False, amount_fen__lt=0) & ~Q(reversal_reason=""),
                name="payment_amount_positive_reversal_negative",
            ),
            models.CheckConstraint(
                condition=Q(unallocated_fen__gte=0, unallocated_fen__lte=F("amount_fen"))
                | Q(unallocated_fen__lte=0, unallocated_fen__gte=F("amount_fen")),
                name="payment_credit_within_amount",
            ),
        ]
        indexes = [
            # A day's payments and reversals, counted and summed from the index alone.
            models.Index(fields=["recorded_at", "amount_fen"], name="payment_recorded_at"),
            # A business date's payments, as the night's recovery step reads them.
            models.Index(fields=["received_on"], name="payment_received_on"),
        ]

    def __str__(self) -> str:
        return self.external_reference

    @property
    def is_reversal(self) -> bool:
        """Return whether this row takes another payment back."""
        return self.reversal_of_id is not None


class PaymentAllocation(models.Model):
    """The part of a payment applied to one bill, per component.

    Negative rows take a part back: a reversal's, or a bill amended below what was paid on it
    (its excess moves to other bills, dated at the amendment).
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    fees_fen = models.BigIntegerField(default=0)
    interest_fen = models.BigIntegerField(default=0)
    principal_fen = models.BigIntegerField(default=0)
    # A copy of the payment's business date, so "what was unpaid on day D" needs no join.
    received_on = models.DateField()

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        constraints = [
            models.CheckConstraint(
                condition=Q(fees_fen__gte=0, interest_fen__gte=0, principal_fen__gte=0)
                | Q(fees_fen__lte=0, interest_fen__lte=0, principal_fen__lte=0),
                name="allocation_components_of_one_sign",
            )
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.bill_id}"

    @property
    def total_fen(self) -> int:
        """Return the allocated amount."""
        return self.fees_fen + self.interest_fen + self.principal_fen


class PersonalDataRevealQuerySet(models.QuerySet):
    """Named reads over the reveal audit."""

    def on_local_day(self, day: datetime.date) -> "PersonalDataRevealQuerySet":
        """Reveals made on ``day`` in the back office's time zone (a range of the ``revealed_at`` index)."""
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
        return self.filter(revealed_at__gte=start, revealed_at__lt=start + datetime.timedelta(days=1))


class PersonalDataReveal(models.Model):
    """Who saw a customer's full ID or mobile number, when and why (PIPL arts. 5, 6 and 51).

    A search by the whole number leaves the same row as a reveal with a reason (it shows whose the number is).
    """

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    field = models.CharField(_("what"), max_length=16)
    reason = models.TextField(_("reason"))
    revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("revealed by"), on_delete=models.PROTECT, related_name="+"
    )
    revealed_at = models.DateTimeField(_("revealed at"), auto_now_add=True)

    objects = PersonalDataRevealQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals")
        ordering = ["-revealed_at"]
        # The night counts each day's reveals by their time (the compliance report).
        indexes = [models.Index(fields=["revealed_at"], name="reveal_revealed_at")]

    def __str__(self) -> str:
        return f"{self.field} of {self.customer_id}"
