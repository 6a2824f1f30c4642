"""Every write to the ledger goes through these functions."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.allocation import Share
from accounts.choices import CreditLineStatus
from accounts.ingest import PaymentRow, payments_post
from accounts.models import Bill, CreditLine, Customer, Payment, PaymentAllocation, PersonalDataReveal, Product
from backoffice.kernel.events import EventType, event_record, events_record
from backoffice.kernel.money import format_yuan, yuan_to_fen


def customer_create(*, name: str, national_id: str, mobile: str, **details: object) -> Customer:
    """Validate and store a new customer; an invalid field is refused by name, with its value."""
    customer = Customer(name=name, national_id=(national_id or "").strip().upper(), mobile=mobile, **details)
    customer.full_clean()
    customer.save()
    return customer


CUSTOMER_FIELDS = (
    "name",
    "mobile",
    "email",
    "address",
    "preferred_language",
    "time_zone",
    "consents_to_calls",
    "consents_to_sms",
    "consents_to_email",
    "do_not_contact",
    "vulnerable",
)


def customer_upsert(*, national_id: str, actor: AbstractBaseUser | None, **details: object) -> tuple[Customer, bool]:
    """Create the customer with this national ID, or update the fields given; return it and whether it was created.

    The national ID is the natural key the lending system sends. Every change is kept in the
    customer's history with ``actor``; an invalid field is refused by name, with its value.
    """
    national_id = (national_id or "").strip().upper()
    unknown = sorted(set(details) - set(CUSTOMER_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: _("Unknown field %(value)r.") % {"value": unknown[0]}})
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(national_id=national_id).first()
        created = customer is None
        customer = customer or Customer(national_id=national_id)
        for field, value in details.items():
            setattr(customer, field, value)
        customer.full_clean(validate_unique=created)
        customer._history_user = actor
        customer.save()
    return customer, created


def credit_line_upsert(
    *,
    number: str,
    customer: Customer,
    product_code: str,
    limit: Decimal | str,
    opened_on: datetime.date,
    closed: bool = False,
    actor: AbstractBaseUser | None = None,
) -> tuple[CreditLine, bool]:
    """Create the line with this contract number, or update what the lender owns: its limit and open/closed status.

    A line never changes hands or product. A freeze or charge-off that collections set is left
    as it is: closing a frozen line closes it; reopening touches only a closed line.
    """
    limit_fen = yuan_to_fen(limit, field="limit")
    if limit_fen < 0:
        raise ValidationError({"limit": _("Limit %(value)s must not be negative.") % {"value": limit}})
    product = Product.objects.filter(code=product_code).first()
    if product is None:
        raise ValidationError({"product": _("Unknown product %(code)r.") % {"code": product_code}})
    with transaction.atomic():
        line = CreditLine.objects.select_for_update().filter(number=number).first()
        if line is None:
            line = CreditLine(number=number, customer=customer, product=product, opened_on=opened_on, limit_fen=0)
            created = True
        else:
            created = False
            if (line.customer_id, line.product_id) != (customer.pk, product.pk):
                raise ValidationError(
                    {"number": _("Credit line %(value)s belongs to another customer or product.") % {"value": number}}
                )
        line.limit_fen = limit_fen
        if closed:
            line.status = CreditLineStatus.CLOSED if line.status != CreditLineStatus.CHARGED_OFF else line.status
        elif line.status == CreditLineStatus.CLOSED:
            line.status = CreditLineStatus.ACTIVE
        line.full_clean(validate_unique=created)
        line.save()
    return line, created


BILL_AMOUNTS = ("principal_due", "interest_due", "fees_due")


def bill_upsert(
    *,
    credit_line: CreditLine,
    due_date: datetime.date,
    amounts: dict[str, Decimal | str],
    reason: str = "",
    actor: AbstractBaseUser | None = None,
) -> tuple[Bill, bool]:
    """Create the line's bill due on ``due_date``, or amend its amounts due with a reason (kept in its history).

    An amendment below what was already paid on a component is refused, naming it: moving a
    payment between bills is a reversal and a new payment.
    """
    due = {name: yuan_to_fen(amounts.get(name, "0"), field=name) for name in BILL_AMOUNTS}
    errors = {
        name: _("Amount %(value)s must not be negative.") % {"value": amounts.get(name)}
        for name, fen in due.items()
        if fen < 0
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        bill = Bill.objects.select_for_update().filter(credit_line=credit_line, due_date=due_date).first()
        created = bill is None
        if created:
            bill = Bill(credit_line=credit_line, due_date=due_date)
        elif not (reason or "").strip() and any(getattr(bill, f"{name}_fen") != due[name] for name in BILL_AMOUNTS):
            raise ValidationError({"reason": _("Amending a bill needs a reason.")})
        for name in BILL_AMOUNTS:
            paid = getattr(bill, f"{name.removesuffix('_due')}_paid_fen")
            if due[name] < paid:
                raise ValidationError(
                    {
                        name: _("Amount %(value)s is below the %(paid)s already paid on it.")
                        % {"value": amounts.get(name), "paid": format_yuan(paid)}
                    }
                )
            setattr(bill, f"{name}_fen", due[name])
        bill._history_user = actor
        bill._change_reason = (reason or "").strip()
        bill.save()
    return bill, created


def credit_line_open(
    *, customer: Customer, product_code: str, number: str, limit: Decimal | str, opened_on: datetime.date
) -> CreditLine:
    """Open a credit line on a product named by its code."""
    product = Product.objects.filter(code=product_code).first()
    if product is None:
        raise ValidationError({"product": _("Unknown product %(code)r.") % {"code": product_code}})
    limit_fen = yuan_to_fen(limit, field="limit")
    if limit_fen < 0:
        raise ValidationError({"limit": _("Limit %(value)s must not be negative.") % {"value": limit}})
    line = CreditLine(customer=customer, product=product, number=number, limit_fen=limit_fen, opened_on=opened_on)
    line.full_clean()
    line.save()
    return line


def credit_line_freeze(*, credit_line: CreditLine) -> bool:
    """Freeze an active line so that it cannot be drawn on; return whether this call froze it.

    Other statuses stay as they are: a line already frozen (by the lender, or before) was not frozen here.
    """
    frozen = CreditLine.objects.filter(pk=credit_line.pk, status=CreditLineStatus.ACTIVE).update(
        status=CreditLineStatus.FROZEN
    )
    if frozen:
        event_record(type=EventType.CREDIT_LINE_FROZEN, credit_line_id=credit_line.pk)
    credit_line.refresh_from_db(fields=["status"])
    return bool(frozen)


def credit_lines_unfreeze(*, line_ids: list[int]) -> int:
    """Lift the freeze of the given lines: frozen ones become active again, any other status stays; return how many."""
    frozen = list(
        CreditLine.objects.select_for_update()
        .filter(pk__in=line_ids, status=CreditLineStatus.FROZEN)
        .values_list("pk", flat=True)
    )
    CreditLine.objects.filter(pk__in=frozen).update(status=CreditLineStatus.ACTIVE)
    events_record((EventType.CREDIT_LINE_UNFROZEN, None, line_id, {}) for line_id in frozen)
    return len(frozen)


def credit_line_charge_off(*, credit_line: CreditLine) -> CreditLine:
    """Mark a line charged off after a settlement or write-off: the rest of its debt is not collected again."""
    charged = CreditLine.objects.filter(pk=credit_line.pk).exclude(status=CreditLineStatus.CHARGED_OFF)
    if charged.update(status=CreditLineStatus.CHARGED_OFF):
        event_record(type=EventType.CREDIT_LINE_CHARGED_OFF, credit_line_id=credit_line.pk)
    credit_line.refresh_from_db(fields=["status"])
    return credit_line


def payment_post(
    *,
    credit_line: CreditLine,
    external_reference: str,
    amount: Decimal | str,
    channel: str,
    received_at: datetime.datetime,
    actor: AbstractBaseUser | None = None,
) -> Payment:
    """Record a payment once per external reference and allocate it to the oldest bills.

    A replay of the same reference returns the payment first recorded. Within each bill, fees
    are paid first, then interest, then principal; what is left over stays on the payment as
    credit, so the allocations plus the credit always equal the payment to the fen. One payment
    takes the path of a set of them (``payments_post``), so the two follow one rule.
    """
    row = PaymentRow(credit_line.number, external_reference, amount, channel, received_at)
    (posted,) = payments_post(rows=[row], actor=actor)
    return Payment.objects.get(pk=posted.payment_id)


def allocation_rows(payment: Payment, shares: list[Share]) -> list[PaymentAllocation]:
    """Return the (unsaved) allocation rows recording how ``payment`` was split into ``shares``."""
    return [
        PaymentAllocation(
            payment=payment,
            bill_id=share.bill_id,
            fees_fen=share.fees_fen,
            interest_fen=share.interest_fen,
            principal_fen=share.principal_fen,
            received_on=payment.received_on,
        )
        for share in shares
    ]


def product_upsert(*, code: str, name: str, policy: object) -> Product:
    """Create or update a product on the given dunning policy."""
    return Product.objects.update_or_create(code=code, defaults={"name": name, "policy": policy})[0]


REVEALABLE = {"mobile": _lazy("mobile"), "national_id": _lazy("national ID number")}


def customer_reveal(*, customer: Customer, actor: AbstractBaseUser, field: str, reason: str) -> str:
    """Return the full value of ``field`` and record who saw it and why; needs the reveal permission."""
    if not actor.has_perm("accounts.reveal_personal_data"):
        raise PermissionDenied(_("You are not allowed to reveal personal data."))
    if field not in REVEALABLE:
        raise ValidationError({"field": _("%(value)r cannot be revealed.") % {"value": field}})
    if len((reason or "").strip()) < 5:
        raise ValidationError({"reason": _("Say why you need the full number (at least a few words).")})
    PersonalDataReveal.objects.create(customer=customer, field=field, reason=reason.strip(), revealed_by=actor)
    return getattr(customer, field)


def customers_found_by_number(
    *, found: QuerySet[Customer], field: str, actor: AbstractBaseUser
) -> list[PersonalDataReveal]:
    """Record that ``actor`` found these customers by their whole ID or mobile number: a reveal of it, one row each.

    A search by the whole number shows whose it is (a court paper, an inbound call), so it needs the
    reveal permission and leaves the same audit row as a reveal.
    """
    if not actor.has_perm("accounts.reveal_personal_data"):
        raise PermissionDenied(_("You are not allowed to reveal personal data."))
    if field not in REVEALABLE:
        raise ValidationError({"field": _("%(value)r cannot be revealed.") % {"value": field}})
    reason = _("Searched by the full %(what)s.") % {"what": REVEALABLE[field]}
    with transaction.atomic():
        return PersonalDataReveal.objects.bulk_create(
            PersonalDataReveal(customer=customer, field=field, reason=reason, revealed_by=actor)
            for customer in found.order_by("pk")
        )
