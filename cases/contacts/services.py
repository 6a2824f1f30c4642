"""Logging contacts: checked against the collection rules when entered, stored with incidents when imported."""

import contextlib
import datetime
from collections.abc import Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import credit_lines_lock
from accounts.models import ANONYMISED, Customer
from accounts.validators import mainland_phone_number
from backoffice.kernel.approvals.edits import edit_apply
from cases.casework.models import Case
from cases.casework.services import refuse_unless_open
from cases.choices import ContactChannel, ContactDirection, ContactOutcome, ContactParty, ContactSource
from cases.contacts.models import ComplianceIncident, Contact, ProhibitedPhraseList, RulePack
from cases.contacts.refusals import contact_refusals_record
from cases.contacts.rules import Breach, ProposedContact, breaches, customer_zone
from cases.contacts.selectors import reach_counts, rule_pack_for
from cases.workload.priority import refresh_queue_ranks


def _contact_input_errors(values: dict) -> dict:
    choices = {
        "channel": ContactChannel.values,
        "outcome": ContactOutcome.values,
        "party": ContactParty.values,
        "direction": ContactDirection.values,
        "source": ContactSource.values,
    }
    return {
        field: _("Unknown %(field)s %(value)r.") % {"field": field, "value": values[field]}
        for field, allowed in choices.items()
        if values[field] not in allowed
    }


def contact_phone_number(value: str) -> str:
    """Return the number called as it is stored (empty for none): the one check of every contact's number.

    Raise ``ValidationError`` keyed by ``phone_number``, naming the value, for a number that is not
    a mainland mobile or fixed line.
    """
    if not value:
        return ""
    try:
        return mainland_phone_number(value)
    except ValidationError as exc:
        raise ValidationError({"phone_number": exc.error_list}) from None


class _Refused(Exception):
    """The rules an entered contact broke, carried out of the transaction that checked them."""

    def __init__(self, found: list[Breach]) -> None:
        """Keep the breaches."""
        super().__init__()
        self.found = found


@contextlib.contextmanager
def _refusal_recorded(*, case: Case, channel: str, actor: AbstractBaseUser | None) -> Iterator[None]:
    """Run the block in one transaction; when it refuses the contact, record the refusal and raise the rules.

    The refusal is written after the block's transaction has ended, so that it stays although the
    contact is not stored: the compliance report counts contacts refused by rule.
    """
    try:
        with transaction.atomic():
            yield
    except _Refused as refused:
        contact_refusals_record(case_id=case.pk, channel=channel, rules=[b.code for b in refused.found], actor=actor)
        raise ValidationError([ValidationError(f"{b.code}: {b.text}", code=b.code) for b in refused.found]) from None


def _recent_calls(case: Case, pack: RulePack, occurred_at: datetime.datetime) -> list[Contact]:
    """Calls about this debt, either way, in the pack's rolling window; none when the pack has no rolling rule."""
    if pack.rolling_call_cap is None and pack.quiet_days_after_conversation is None:
        return []
    days = max(pack.rolling_days, pack.quiet_days_after_conversation or 0)
    return list(
        Contact.objects.filter(
            case=case,
            channel=ContactChannel.CALL,
            occurred_at__gt=occurred_at - datetime.timedelta(days=days),
            occurred_at__lt=occurred_at,
        )
    )


def contact_log(
    *,
    case: Case,
    actor: AbstractBaseUser | None,
    channel: str,
    outcome: str,
    party: str = ContactParty.CUSTOMER,
    direction: str = ContactDirection.OUTBOUND,
    phone_number: str = "",
    notes: str = "",
    identity_disclosed: bool = False,
    recording_reference: str = "",
    occurred_at: datetime.datetime | None = None,
    imported_by: AbstractBaseUser | None = None,
    source: str = ContactSource.ENTERED,
    follow_up_on: datetime.date | None = None,
    refresh_rank: bool = True,
    scope_checked: bool = False,
) -> Contact:
    """Record a contact. One an agent enters is checked first and refused if it breaks a rule;
    one imported after the fact is always stored, and each rule it broke opens a compliance incident.

    ``refresh_rank`` False leaves the case's queue rank to the caller, who stores many contacts and
    refreshes their cases' ranks once (building the rank's SQL is most of one contact's cost).
    ``scope_checked`` True: an API client's scope allowed the import, so its service user (the
    importer) needs no model permission.
    """
    # An imported contact names the agent who made it, who may have left since: the importer's
    # permission is the one that counts (None: the system).
    acting = imported_by if source == ContactSource.IMPORTED else actor
    if acting is not None and not scope_checked and not acting.has_perm("cases.add_contact"):
        raise PermissionDenied(_("You are not allowed to log contacts."))
    values = {"channel": channel, "outcome": outcome, "party": party, "direction": direction, "source": source}
    if errors := _contact_input_errors(values):
        raise ValidationError(errors)
    phone_number = contact_phone_number(phone_number)
    occurred_at = occurred_at or timezone.now()
    if source == ContactSource.ENTERED:
        refuse_unless_open(case)
        if follow_up_on is not None and follow_up_on < timezone.localdate():
            raise ValidationError(
                {"follow_up_on": _("Follow-up date %(value)s is in the past.") % {"value": follow_up_on}}
            )
    proposed = ProposedContact(channel, party, outcome, phone_number, notes, identity_disclosed, occurred_at, direction)
    with _refusal_recorded(case=case, channel=channel, actor=actor):
        # One customer's contacts are checked and written one at a time, so two agents cannot
        # both take the last call of the day.
        customer = Customer.objects.select_for_update().get(pk=case.credit_line.customer_id)
        # The line before its case, as a payment takes them: the case is written twice below, so at
        # commit PostgreSQL checks the case's key to its line, which a payment holding the line (and
        # waiting for this case) would never let through: a deadlock.
        credit_lines_lock(line_ids=[case.credit_line_id])
        pack = rule_pack_for(case)
        local_date = occurred_at.astimezone(customer_zone(customer.time_zone)).date()
        same_customer = Contact.objects.filter(case__credit_line__customer=customer)
        found = breaches(
            contact=proposed,
            pack=pack,
            customer=customer,
            case=case,
            earlier_today=list(same_customer.filter(customer_local_date=local_date)),
            recent_customer_attempts=list(
                same_customer.filter(party=ContactParty.CUSTOMER)
                .order_by("-occurred_at")
                .values_list("outcome", flat=True)[:10]
            ),
            prohibited=ProhibitedPhraseList.objects.in_force(customer.preferred_language),
            recent_calls=_recent_calls(case, pack, occurred_at),
            reach_counts=tuple(reach_counts({customer.pk: customer}, occurred_at)[customer.pk]),
        )
        if found and source == ContactSource.ENTERED:
            raise _Refused(found)
        contact = Contact.objects.create(
            case=case,
            agent=actor,
            imported_by=imported_by if source == ContactSource.IMPORTED else None,
            customer_local_date=local_date,
            occurred_at=occurred_at,
            phone_number=phone_number,
            notes=notes,
            identity_disclosed=identity_disclosed,
            recording_reference=recording_reference,
            **values,
        )
        ComplianceIncident.objects.bulk_create(
            ComplianceIncident(contact=contact, rule=b.code, message=b.text) for b in found
        )
        Case.objects.filter(pk=case.pk).filter(
            Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=occurred_at)
        ).update(last_contact_at=occurred_at)
        # A new follow-up date replaces the old; a contact made on or after a due follow-up's day completes it.
        if follow_up_on is not None:
            Case.objects.filter(pk=case.pk).update(follow_up_on=follow_up_on)
        else:
            done_on = min(timezone.localtime(occurred_at).date(), timezone.localdate())
            Case.objects.filter(pk=case.pk, follow_up_on__lte=done_on).update(follow_up_on=None)
        if refresh_rank:
            refresh_queue_ranks(case_ids=[case.pk])
    return contact


def phrase_list_add(
    *, language: str, phrases: str, actor: AbstractBaseUser | None, author: AbstractBaseUser | None = None
) -> ProhibitedPhraseList:
    """Put a new version of the language's prohibited phrases in force; earlier versions stay as the record.

    ``author`` is who wrote the list, when it is not ``actor`` (the second person who approved it).
    """
    if actor is not None and not actor.has_perm("cases.add_prohibitedphraselist"):
        raise PermissionDenied(_("You are not allowed to change the prohibited phrases."))
    with transaction.atomic():
        latest = ProhibitedPhraseList.objects.select_for_update().filter(language=language).order_by("-version").first()
        return ProhibitedPhraseList.objects.create(
            language=language,
            version=(latest.version + 1 if latest else 1),
            phrases=phrases,
            created_by=author or actor,
        )


def contacts_forget(*, contacts: QuerySet[Contact]) -> int:
    """Empty these contacts' recording references and numbers called, and put ``ANONYMISED`` in place of their
    notes and of their incidents' accounts (which quote the number); return how many contacts changed.

    The retention policy's step for collection records past their time: that a contact happened, when,
    on which channel, by whom, with what outcome and which rule it broke all stay (the compliance
    figures count them). A contact forgotten already is left as it is.
    """
    ids = contacts.order_by().values("pk")
    with transaction.atomic():
        ComplianceIncident.objects.filter(contact__in=ids).exclude(message=ANONYMISED).update(message=ANONYMISED)
        notes = Contact.objects.filter(pk__in=ids).exclude(notes__in=("", ANONYMISED)).update(notes=ANONYMISED)
        references = (
            Contact.objects.filter(pk__in=ids)
            .exclude(recording_reference="", phone_number="")
            .update(recording_reference="", phone_number="")
        )
    return max(notes, references)


def rule_pack_update(*, pack: RulePack, values: dict, actor: AbstractBaseUser | None, reason: str = "") -> RulePack:
    """Save an approved edit of a rule pack's parameters (the window, the caps), with the reason in its history."""
    if actor is not None and not actor.has_perm("cases.change_rulepack"):
        raise PermissionDenied(_("You are not allowed to change the collection rules."))
    with transaction.atomic():
        return edit_apply(obj=pack, values=values, reason=reason)
