"""Every write to the ledger goes through these functions."""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.allocation import Owed, Share, allocate
from accounts.choices import CreditLineStatus
from accounts.ingest import PaymentRow, ReversalRow, payments_post, payments_reverse
from accounts.models import (
    ANONYMISED,
    Bill,
    CreditLine,
    Customer,
    Payment,
    PaymentAllocation,
    PersonalDataReveal,
    Product,
)
from accounts.validators import validate_due_date, validate_line_number, validate_opened_on
from backoffice.kernel.events import EventType, event_record, events_record
from backoffice.kernel.money import format_yuan, yuan_to_fen
from backoffice.kernel.serving import security_alert, security_event

T = TypeVar("T")


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
    "consents_to_push",
    "do_not_contact",
    "vulnerable",
)


def customer_upsert(*, national_id: str, actor: AbstractBaseUser | None, **details: object) -> tuple[Customer, bool]:
    """Create the customer with this national ID, or update the fields given; return it and whether it was created.

    The national ID is the natural key the lending system sends. Every change is kept in the
    customer's history with ``actor``; an invalid field is refused by name, with its value.
    The same customer sent twice at once is created once and updated by the other request.
    """
    national_id = (national_id or "").strip().upper()
    unknown = sorted(set(details) - set(CUSTOMER_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: _("Unknown field %(value)r.") % {"value": unknown[0]}})
    return _racing_insert(lambda: _customer_write(national_id=national_id, actor=actor, details=details))


CONSENT_FIELDS = {
    "call": "consents_to_calls",
    "sms": "consents_to_sms",
    "email": "consents_to_email",
    "push": "consents_to_push",
}


def customer_consent_withdraw(
    *, customer: Customer, channel: str, actor: AbstractBaseUser | None, reason: str
) -> Customer:
    """Record that the customer withdrew consent to ``channel`` (``call``, ``sms``, ``email``, ``push``), with why."""
    field = CONSENT_FIELDS.get(channel)
    if field is None:
        raise ValidationError({"channel": _("Unknown channel %(value)r.") % {"value": channel}})
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if getattr(locked, field):
            setattr(locked, field, False)
            locked._history_user, locked._change_reason = actor, reason
            locked.save(update_fields=[field])
    return locked


def _racing_insert(write: Callable[[], T]) -> T:
    """Run ``write`` (which reads by a natural key, then inserts or updates) in a savepoint, twice if need be.

    Two requests for the same new key both find nothing and both insert; the unique index makes
    the second wait for the first and fail. Run again, the second finds the first's row and updates it.
    """
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        with transaction.atomic():
            return write()


def _customer_write(*, national_id: str, actor: AbstractBaseUser | None, details: dict) -> tuple[Customer, bool]:
    customer = Customer.objects.select_for_update().filter(national_id=national_id).first()
    created = customer is None
    customer = customer or Customer(national_id=national_id)
    for field, value in details.items():
        setattr(customer, field, value)
    # Uniqueness is the index's to enforce: a check here would refuse the loser of a race.
    customer.full_clean(validate_unique=False)
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

    A line never changes hands, product or opening date (refused, naming both dates). A freeze or charge-off that collections set is left
    as it is: closing a frozen line closes it, and reopening a closed line returns it to frozen
    while collections still holds its freeze (``held_frozen``), to active otherwise.
    """
    limit_fen = yuan_to_fen(limit, field="limit")
    if limit_fen < 0:
        raise ValidationError({"limit": _("Limit %(value)s must not be negative.") % {"value": limit}})
    product = Product.objects.filter(code=product_code).first()
    if product is None:
        raise ValidationError({"product": _("Unknown product %(code)r.") % {"code": product_code}})
    _check_line_input(number=number, opened_on=opened_on)
    return _racing_insert(
        lambda: _credit_line_write(
            number=number, customer=customer, product=product, limit_fen=limit_fen, opened_on=opened_on, closed=closed
        )
    )


def _check_line_input(*, number: str, opened_on: datetime.date) -> None:
    errors = {}
    for field, check in (
        ("number", lambda: validate_line_number(number)),
        ("opened_on", lambda: validate_opened_on(opened_on, today=timezone.localdate())),
    ):
        try:
            check()
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)


def _credit_line_write(
    *, number: str, customer: Customer, product: Product, limit_fen: int, opened_on: datetime.date, closed: bool
) -> tuple[CreditLine, bool]:
    line = CreditLine.objects.select_for_update().filter(number=number).first()
    created = line is None
    if created:
        line = CreditLine(number=number, customer=customer, product=product, opened_on=opened_on, limit_fen=0)
    else:
        _check_line_unchanged(line, customer=customer, product=product, opened_on=opened_on)
    line.limit_fen = limit_fen
    if closed:
        line.status = CreditLineStatus.CLOSED if line.status != CreditLineStatus.CHARGED_OFF else line.status
    elif line.status == CreditLineStatus.CLOSED:
        line.status = CreditLineStatus.FROZEN if line.held_frozen else CreditLineStatus.ACTIVE
    line.full_clean(validate_unique=False)
    line.save()
    return line, created


def _check_line_unchanged(line: CreditLine, *, customer: Customer, product: Product, opened_on: datetime.date) -> None:
    """Refuse a change to what a line keeps for life: its customer, product and opening date."""
    if (line.customer_id, line.product_id) != (customer.pk, product.pk):
        raise ValidationError(
            {"number": _("Credit line %(value)s belongs to another customer or product.") % {"value": line.number}}
        )
    if line.opened_on != opened_on:
        message = _("Credit line %(number)s opened on %(stored)s; its opening date cannot change to %(value)s.")
        raise ValidationError(
            {
                "opened_on": message
                % {"number": line.number, "stored": line.opened_on.isoformat(), "value": opened_on.isoformat()}
            }
        )


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

    An amendment below what was already paid on a component takes the excess off the bill, from
    the latest payments allocated to it (negative allocations dated at the amendment), and
    allocates it again by the one rule to what the line still owes, oldest bill first; the rest
    becomes those payments' credit. Allocations and credit still sum to each payment exactly.
    """
    due = {name: yuan_to_fen(amounts.get(name, "0"), field=name) for name in BILL_AMOUNTS}
    errors = {
        name: _("Amount %(value)s must not be negative.") % {"value": amounts.get(name)}
        for name, fen in due.items()
        if fen < 0
    }
    if errors:
        raise ValidationError(errors)
    try:
        validate_due_date(due_date, opened_on=credit_line.opened_on)
    except ValidationError as exc:
        raise ValidationError({"due_date": exc.messages}) from exc
    reason = (reason or "").strip()
    return _racing_insert(
        lambda: _bill_write(
            credit_line=credit_line, due_date=due_date, due=due, amounts=amounts, reason=reason, actor=actor
        )
    )


def _bill_write(
    *,
    credit_line: CreditLine,
    due_date: datetime.date,
    due: dict[str, int],
    amounts: dict,
    reason: str,
    actor: AbstractBaseUser | None,
) -> tuple[Bill, bool]:
    # The line first, as a payment locks it: amending moves money between the line's bills.
    CreditLine.objects.select_for_update().filter(pk=credit_line.pk).first()
    bill = Bill.objects.select_for_update().filter(credit_line=credit_line, due_date=due_date).first()
    created = bill is None
    if created:
        bill = Bill(credit_line=credit_line, due_date=due_date)
    amended = not created and any(getattr(bill, f"{name}_fen") != due[name] for name in BILL_AMOUNTS)
    if amended and not reason:
        raise ValidationError({"reason": _("Amending a bill needs a reason.")})
    for name in BILL_AMOUNTS:
        setattr(bill, f"{name}_fen", due[name])
    if not (created or amended):
        # Sent again unchanged: nothing is written, so the history (and the reconciliation) holds only
        # real amendments.
        return bill, created
    excess = {part: max(0, getattr(bill, f"{part}_paid_fen") - getattr(bill, f"{part}_due_fen")) for part in PARTS}
    bill._history_user, bill._change_reason = actor, reason
    if any(excess.values()):
        _excess_reallocate(bill=bill, excess=excess, amounts=amounts, reason=reason, actor=actor)
    else:
        bill.save()
    return bill, created


PARTS = ("fees", "interest", "principal")


def _excess_reallocate(
    *, bill: Bill, excess: dict[str, int], amounts: dict, reason: str, actor: AbstractBaseUser | None
) -> None:
    today = timezone.localdate()
    taken = _excess_take_back(bill=bill, excess=excess, amounts=amounts)
    for part in PARTS:
        setattr(bill, f"{part}_paid_fen", getattr(bill, f"{part}_paid_fen") - excess[part])
    bill.last_paid_on = max(filter(None, [bill.last_paid_on, today]))
    bill.save()
    payments = Payment.objects.in_bulk(list(taken))
    back = [
        PaymentAllocation(payment=payments[pid], bill=bill, received_on=today, **{f"{k}_fen": -v for k, v in t.items()})
        for pid, t in taken.items()
    ]
    bills = list(Bill.objects.select_for_update().filter(credit_line_id=bill.credit_line_id).unpaid().oldest_first())
    moved = _("Allocation moved from the bill due %(date)s, amended: %(reason)s") % {
        "date": bill.due_date,
        "reason": reason,
    }
    rows, touched = [], {}
    # The payments received first are allocated again first, as they were in the first place.
    for payment in sorted(payments.values(), key=lambda p: (p.received_at, p.pk)):
        shares, credit = allocate(sum(taken[payment.pk].values()), owed_of(bills))
        _shares_apply(bills, shares, today, touched)
        rows += allocation_rows(payment, shares, received_on=today)
        if credit:
            payment.unallocated_fen += credit
            payment._history_user, payment._change_reason = actor, moved
            payment.save(update_fields=["unallocated_fen"])
    for other in touched.values():
        other._history_user, other._change_reason = actor, moved
        other.save()
    PaymentAllocation.objects.bulk_create(back + rows)
    bill.refresh_from_db()


def _excess_take_back(*, bill: Bill, excess: dict[str, int], amounts: dict) -> dict[int, dict[str, int]]:
    # Payments reversed, and reversals, net to nothing on the bill: only money that stayed moves.
    nets = (
        PaymentAllocation.objects.filter(bill=bill, payment__reversal_of__isnull=True, payment__reversal__isnull=True)
        .values("payment_id", "payment__received_at")
        .annotate(**{part: Sum(f"{part}_fen") for part in PARTS})
        .order_by("-payment__received_at", "-payment_id")
    )
    taken: dict[int, dict[str, int]] = {}
    for part in PARTS:
        left = excess[part]
        for net in nets:
            take = min(left, max(0, net[part]))
            if take:
                taken.setdefault(net["payment_id"], dict.fromkeys(PARTS, 0))[part] += take
                left -= take
        if left:
            name = f"{part}_due"
            message = _(
                "Amount %(value)s is below the %(paid)s already paid on it, and the payments allocated to it"
                " cannot give back %(left)s."
            )
            paid = format_yuan(getattr(bill, f"{part}_paid_fen"))
            raise ValidationError(
                {name: message % {"value": amounts.get(name), "paid": paid, "left": format_yuan(left)}}
            )
    return taken


def owed_of(bills: list[Bill]) -> list[Owed]:
    """Return what each of ``bills`` (oldest first) still owes, per component, for ``allocate``."""
    return [
        Owed(
            bill.pk,
            bill.fees_due_fen - bill.fees_paid_fen,
            bill.interest_due_fen - bill.interest_paid_fen,
            bill.principal_due_fen - bill.principal_paid_fen,
        )
        for bill in bills
    ]


def _shares_apply(bills: list[Bill], shares: list[Share], on: datetime.date, touched: dict[int, Bill]) -> None:
    by_id = {bill.pk: bill for bill in bills}
    for share in shares:
        bill = by_id[share.bill_id]
        bill.fees_paid_fen += share.fees_fen
        bill.interest_paid_fen += share.interest_fen
        bill.principal_paid_fen += share.principal_fen
        bill.last_paid_on = max(filter(None, [bill.last_paid_on, on]))
        touched[bill.pk] = bill


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
    _check_line_input(number=number, opened_on=opened_on)
    line = CreditLine(customer=customer, product=product, number=number, limit_fen=limit_fen, opened_on=opened_on)
    line.full_clean()
    line.save()
    return line


def credit_line_freeze(*, credit_line: CreditLine) -> bool:
    """Freeze an active line so that it cannot be drawn on; return whether this call froze it.

    Other statuses stay as they are: a line already frozen (by the lender, or before) was not frozen here.
    """
    frozen = CreditLine.objects.filter(pk=credit_line.pk, status=CreditLineStatus.ACTIVE).update(
        status=CreditLineStatus.FROZEN, held_frozen=True
    )
    if frozen:
        event_record(type=EventType.CREDIT_LINE_FROZEN, credit_line_id=credit_line.pk)
    credit_line.refresh_from_db(fields=["status", "held_frozen"])
    return bool(frozen)


def credit_lines_unfreeze(*, line_ids: list[int]) -> int:
    """Lift the freeze of the given lines: frozen ones become active again, any other status stays; return how many.

    A line the lender closed meanwhile stays closed, with collections' freeze lifted, so that
    reopening it makes it active.
    """
    frozen = list(
        CreditLine.objects.select_for_update()
        .filter(pk__in=line_ids, status=CreditLineStatus.FROZEN)
        .values_list("pk", flat=True)
    )
    CreditLine.objects.filter(pk__in=line_ids, held_frozen=True).update(held_frozen=False)
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


def allocation_rows(
    payment: Payment, shares: list[Share], *, received_on: datetime.date | None = None
) -> list[PaymentAllocation]:
    """Return the (unsaved) allocation rows recording how ``payment`` was split into ``shares``.

    They are dated at the payment's business date, or at ``received_on`` for a later move.
    """
    return [
        PaymentAllocation(
            payment=payment,
            bill_id=share.bill_id,
            fees_fen=share.fees_fen,
            interest_fen=share.interest_fen,
            principal_fen=share.principal_fen,
            received_on=received_on or payment.received_on,
        )
        for share in shares
    ]


def payment_reverse(
    *,
    payment: Payment,
    external_reference: str,
    reason: str,
    reversed_at: datetime.datetime,
    actor: AbstractBaseUser | None,
    note: str = "",
) -> Payment:
    """Take a payment back (bounced, charged back) as a payment of its own, recorded once per external reference.

    The reversal's amount, allocations and credit are the negatives of the original's (its
    allocations as they stand, after any amendment moved them), dated at the reversal, so that
    what the bills were paid goes back to what they owe. A replay of the same reference returns
    the reversal first recorded; a payment is reversed at most once, and a reversal never. One
    reversal takes the path of a set of them (``payments_reverse``), so the two follow one rule.
    """
    row = ReversalRow(payment.external_reference, external_reference, reason, reversed_at, note or "")
    (reversed_,) = payments_reverse(rows=[row], actor=actor)
    return Payment.objects.get(pk=reversed_.payment_id)


def product_upsert(*, code: str, name: str, policy: object) -> Product:
    """Create or update a product on the given dunning policy."""
    return Product.objects.update_or_create(code=code, defaults={"name": name, "policy": policy})[0]


REVEALABLE = {"mobile": gettext_lazy("mobile"), "national_id": gettext_lazy("national ID number")}


def customer_reveal(*, customer: Customer, actor: AbstractBaseUser, field: str, reason: str) -> str:
    """Return the full value of ``field`` and record who saw it and why; needs the reveal permission."""
    if not actor.has_perm("accounts.reveal_personal_data"):
        raise PermissionDenied(_("You are not allowed to reveal personal data."))
    if field not in REVEALABLE:
        raise ValidationError({"field": _("%(value)r cannot be revealed.") % {"value": field}})
    if len((reason or "").strip()) < 5:
        raise ValidationError({"reason": _("Say why you need the full number (at least a few words).")})
    PersonalDataReveal.objects.create(customer=customer, field=field, reason=reason.strip(), revealed_by=actor)
    reveals_watch(actor=actor, field=field, customer_ids=[customer.pk])
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
        reveals = PersonalDataReveal.objects.bulk_create(
            PersonalDataReveal(customer=customer, field=field, reason=reason, revealed_by=actor)
            for customer in found.order_by("pk")
        )
        reveals_watch(actor=actor, field=field, customer_ids=[reveal.customer_id for reveal in reveals])
    return reveals


def reveals_watch(*, actor: AbstractBaseUser, field: str, customer_ids: list[int]) -> int:
    """Log each reveal just recorded as a security event, and alert when ``actor`` passes the day's limit.

    ``REVEAL_ALERT_PER_DAY`` full numbers a person a day, reveals and searches by the whole number
    alike, are a working day's need; the reveal that takes the count past it logs
    ``reveals_over_limit`` (and mails the security contacts), once a day, and the supervisors'
    dashboard shows who is past it. By ids only. Return the actor's count today.
    """
    for customer_id in customer_ids:
        security_event("personal_data_revealed", user_id=actor.pk, customer_id=customer_id, field=field)
    count = PersonalDataReveal.objects.on_local_day(timezone.localdate()).filter(revealed_by=actor).count()
    limit = settings.REVEAL_ALERT_PER_DAY
    if count - len(customer_ids) <= limit < count:
        security_alert("reveals_over_limit", user_id=actor.pk, count=count, limit=limit)
    return count


# An anonymised customer is never contacted again: there is nobody left to reach.
_NEVER_CONTACTED = {
    "consents_to_calls": False,
    "consents_to_sms": False,
    "consents_to_email": False,
    "consents_to_push": False,
    "do_not_contact": True,
}


def customers_anonymise(*, customer_ids: list[int], now: datetime.datetime) -> int:
    """Replace these customers' personal data, in their rows and every past version of them, by ``ANONYMISED``.

    The retention policy's last step for a customer it no longer needs (PIPL art. 47): name, mobile and
    address become the marker, the e-mail is emptied, the ID number becomes ``ANON`` and the row's id (it
    stays unique), and nothing will be sent to them again (no consents, do not contact). Their lines,
    bills, payments and allocations keep every amount. One statement a table, so no new past version
    copies what goes; a customer anonymised already is left as it is, so a second run changes nothing.
    Return how many customers changed.
    """
    with transaction.atomic():
        ids = list(
            Customer.objects.select_for_update()
            .filter(pk__in=customer_ids, anonymised_at__isnull=True)
            .values_list("pk", flat=True)
        )
        Customer.objects.filter(pk__in=ids).update(**_anonymised_values(now), **_NEVER_CONTACTED)
        Customer.history.filter(id__in=ids).update(**_anonymised_values(now), history_change_reason=None)
    return len(ids)


def _anonymised_values(now: datetime.datetime) -> dict[str, object]:
    digits = Customer._meta.get_field("national_id").max_length - len("ANON")
    return {
        "name": ANONYMISED,
        "national_id": Concat(Value("ANON"), LPad(Cast("id", CharField()), digits, Value("0"))),
        "mobile": ANONYMISED,
        "email": "",
        "address": ANONYMISED,
        "anonymised_at": now,
    }
