"""Sending approved letters: by e-mail once the mail server accepts them, retried, or by registered post,
whose arrival a person records; each try re-checks that the case still calls for the letter."""

import datetime
import logging

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.positions import line_balance, payments_since
from backoffice.kernel import outbound
from backoffice.kernel.events import EventType
from backoffice.kernel.outbound import Accepted, Attachment, Outgoing, SendFailed
from cases.choices import FINAL_STAGES, Stage
from cases.contacts.refusals import contact_refusals_record
from cases.contacts.rules import Breach, reach_breaches
from cases.contacts.selectors import rule_pack_for
from cases.models import Case
from letters.choices import DispatchChannel, LetterKind, LetterStatus
from letters.models import Letter
from letters.rendering import sha256_of
from letters.selectors import letters_queued_for_email
from letters.services import letter_event, stored_pdf_bytes

logger = logging.getLogger(__name__)

# The e-mail's subject, in the letter's language: what the customer sees in their inbox.
EMAIL_SUBJECTS = {
    LetterKind.LAWYER_LETTER: gettext_lazy("Lawyer's letter %(number)s"),
    LetterKind.REMINDER_NOTICE: gettext_lazy("Reminder notice %(number)s"),
}
EMAIL_BODY = gettext_lazy(
    "Please find attached letter %(number)s from %(issuer)s, as a PDF.\n\n"
    "You can check that it is genuine at %(verify_url)s with the letter number and the verification code "
    "printed on it.\n"
)


def _reason_not_to_send(letter: Letter) -> str | None:
    case = Case.objects.get(pk=letter.case_id)
    if case.stage in FINAL_STAGES or case.stage == Stage.ON_HOLD:
        return _("Case %(number)s is %(stage)s.") % {"number": case.number, "stage": case.get_stage_display()}
    frozen_at = datetime.datetime.fromisoformat(letter.snapshot["frozen_at"])
    if payments_since(credit_line_id=case.credit_line_id, since=frozen_at).exists():
        return _("A payment was received after the letter's data was frozen.")
    # The live balance, not only the payments: a bill reversed or re-aged since also changes what is owed.
    if line_balance(credit_line_id=case.credit_line_id, as_of=timezone.localdate()).overdue.total_fen <= 0:
        return _("Nothing is overdue on case %(number)s any more.") % {"number": case.number}
    return None


def letter_dispatch(
    *,
    letter: Letter,
    actor: AbstractBaseUser | None,
    channel: str,
    address: str = "",
    carrier: str = "",
    tracking_number: str = "",
) -> Letter:
    """Send an approved letter (or one whose dispatch failed): queue its e-mail, or record its hand-over to
    registered post; cancel it instead, with the reason, if the case no longer calls for it.

    An e-mail is SENT only once the mail server accepted it (``letter_email_attempt``, tried once
    right after this commits and then by the poll); registered post is SENT on hand-over and
    arrives when a person records the delivery from the tracking.
    """
    if actor is not None and not actor.has_perm("letters.dispatch_letter"):
        raise PermissionDenied(_("You are not allowed to send letters."))
    _refuse_bad_dispatch_input(channel=channel, address=address, carrier=carrier, tracking_number=tracking_number)
    try:
        return _dispatch_locked(
            letter, actor=actor, channel=channel, address=address, carrier=carrier, tracking_number=tracking_number
        )
    except _EmailRefused as refused:
        # Recorded once the letter's lock is released and its transaction rolled back, so that the row stays.
        contact_refusals_record(
            case_id=letter.case_id, channel="email", rules=[b.code for b in refused.found], actor=actor
        )
        raise ValidationError([ValidationError(f"{b.code}: {b.text}", code=b.code) for b in refused.found]) from None


class _EmailRefused(Exception):
    """The collection rules that refused a letter's e-mail, carried out of the transaction that checked them."""

    def __init__(self, found: list[Breach]) -> None:
        """Keep the breaches."""
        super().__init__()
        self.found = found


def _dispatch_locked(
    letter: Letter, *, actor: AbstractBaseUser | None, channel: str, address: str, carrier: str, tracking_number: str
) -> Letter:
    with transaction.atomic():
        locked = _locked_sendable(letter)
        if _pdf_bytes_if_approved(locked) is None:
            raise ValidationError(
                _("The PDF of letter %(number)s is not the one approved.") % {"number": locked.number}
            )
        reason = _reason_not_to_send(locked)
        if reason:
            _cancel(locked, reason)
            return locked
        if channel == DispatchChannel.EMAIL:
            _queue_email(locked, actor=actor, address=address)
        else:
            _hand_over_to_post(locked, actor=actor, carrier=carrier, tracking_number=tracking_number)
    return locked


def _refuse_bad_dispatch_input(*, channel: str, address: str, carrier: str, tracking_number: str) -> None:
    errors = {}
    if channel not in DispatchChannel.values:
        errors["channel"] = _("Unknown channel %(value)r.") % {"value": channel}
    elif channel == DispatchChannel.EMAIL:
        try:
            # Django's own check: no newline (a header injection), no bare "@", a real domain.
            validate_email(address)
        except ValidationError:
            errors["address"] = _("E-mail address %(value)r is not valid.") % {"value": address}
    elif not (carrier.strip() and tracking_number.strip()):
        errors["tracking_number"] = _("Registered post needs the carrier and the tracking number.")
    if errors:
        raise ValidationError(errors)


def _locked_sendable(letter: Letter) -> Letter:
    locked = Letter.objects.select_for_update().get(pk=letter.pk)
    if locked.status == LetterStatus.APPROVED and locked.next_attempt_at is not None:
        raise ValidationError(
            _("Letter %(number)s is already queued for e-mail; next try at %(when)s.")
            % {"number": locked.number, "when": timezone.localtime(locked.next_attempt_at).strftime("%Y-%m-%d %H:%M")}
        )
    if locked.status not in (LetterStatus.APPROVED, LetterStatus.DISPATCH_FAILED):
        raise ValidationError(
            _("Letter %(number)s is %(status)s: only an approved letter is sent.")
            % {"number": locked.number, "status": locked.get_status_display()}
        )
    return locked


def _pdf_bytes_if_approved(letter: Letter) -> bytes | None:
    """Return the stored PDF if it is still the one approved (invariant 3), else None."""
    content = stored_pdf_bytes(letter)
    return content if content is not None and sha256_of(content) == letter.approved_sha256 else None


def _cancel(letter: Letter, reason: str) -> None:
    letter.status, letter.cancellation_reason, letter.next_attempt_at = LetterStatus.CANCELLED, reason, None
    letter.cancelled_at = timezone.now()
    letter.save()
    letter_event(EventType.LETTER_CANCELLED, letter, reason=reason)


def _email_breaches(letter: Letter, at: datetime.datetime) -> tuple[list[Breach], datetime.datetime | None]:
    """Return the rules that forbid e-mailing the customer, and when the contact window opens if it is shut."""
    customer = letter.case.credit_line.customer
    found = reach_breaches(pack=rule_pack_for(letter.case), customer=customer, channel="email", at=at)
    window = next((breach for breach in found if breach.code == "CONTACT_OUTSIDE_WINDOW"), None)
    return [breach for breach in found if breach is not window], window.allowed_from if window else None


def _queue_email(letter: Letter, *, actor: AbstractBaseUser | None, address: str) -> None:
    # To the customer's own e-mail, never one typed in (a letter goes to no third party): a new
    # address is first recorded on the customer, with its history.
    on_file = (letter.case.credit_line.customer.email or "").strip()
    if address.strip().casefold() != on_file.casefold():
        raise ValidationError(
            {
                "address": _("%(value)r is not the customer's e-mail on file (%(on_file)r); letters go only there.")
                % {"value": address, "on_file": on_file}
            }
        )
    now = timezone.now()
    refusing, window_opens = _email_breaches(letter, now)
    if refusing:
        raise _EmailRefused(refusing)
    letter.status, letter.dispatch_channel, letter.dispatch_address = (
        LetterStatus.APPROVED,
        DispatchChannel.EMAIL,
        address,
    )
    letter.dispatch_requested_by, letter.dispatch_requested_at = actor, now
    # Outside the customer's hours the letter waits for them to begin, rather than being refused.
    letter.next_attempt_at = window_opens or now
    letter.dispatch_attempts, letter.dispatch_last_error = 0, ""
    letter.save()
    letter_id = letter.pk
    transaction.on_commit(lambda: _send_soon(letter_id), robust=True)


def _send_soon(letter_id: int) -> None:
    """Try the e-mail at once: in this process without a broker (the demo), else by asking a worker for a poll.

    Either way a refused try is left to the poll, which retries it when its next try is due.
    """
    if not settings.CELERY_BROKER_URL:
        letter_email_attempt(letter_id=letter_id)
        return
    try:
        current_app.send_task("letters.send_due", retry=False)
    except Exception:  # a broker that is down: beat's poll sends it once the broker is back
        logger.warning("Could not ask the broker to send letter id %s; the periodic poll will.", letter_id)


def _hand_over_to_post(letter: Letter, *, actor: AbstractBaseUser | None, carrier: str, tracking_number: str) -> None:
    # To the customer's own postal address, never one typed in (a letter goes to no third party).
    postal_address = (letter.case.credit_line.customer.address or "").strip()
    if not postal_address:
        raise ValidationError(
            {"address": _("The customer has no postal address (%(value)r): registered post cannot go.") % {"value": ""}}
        )
    now = timezone.now()
    letter.status, letter.sent_at, letter.dispatch_channel = LetterStatus.SENT, now, DispatchChannel.POST
    letter.dispatch_address, letter.carrier, letter.tracking_number = (
        postal_address,
        carrier.strip(),
        tracking_number.strip(),
    )
    letter.dispatch_requested_by, letter.dispatch_requested_at, letter.next_attempt_at = actor, now, None
    letter.save()
    letter_event(EventType.LETTER_SENT, letter, channel=DispatchChannel.POST)


def letter_record_delivery(*, letter: Letter, actor: AbstractBaseUser | None, arrived_at: datetime.datetime) -> Letter:
    """Record when registered post was delivered, as its tracking shows; the limitation period is interrupted then.

    Civil Code arts. 137 and 195: a demand takes effect, and interrupts the limitation period, when
    it reaches the customer, not when it is posted.
    """
    if actor is not None and not actor.has_perm("letters.dispatch_letter"):
        raise PermissionDenied(_("You are not allowed to record the delivery of letters."))
    with transaction.atomic():
        locked = Letter.objects.select_for_update().get(pk=letter.pk)
        if locked.status != LetterStatus.SENT or locked.dispatch_channel != DispatchChannel.POST:
            raise ValidationError(
                _("Letter %(number)s was not sent by registered post: there is no delivery to record.")
                % {"number": locked.number}
            )
        if locked.arrived_at is not None:
            raise ValidationError(
                _("The delivery of letter %(number)s is already recorded (%(when)s).")
                % {"number": locked.number, "when": timezone.localtime(locked.arrived_at).strftime("%Y-%m-%d %H:%M")}
            )
        _refuse_impossible_arrival(locked, arrived_at)
        locked.arrived_at, locked.arrival_recorded_by = arrived_at, actor
        locked.limitation_interrupted_on = timezone.localdate(arrived_at)
        locked.save()
    return locked


def _refuse_impossible_arrival(letter: Letter, arrived_at: datetime.datetime) -> None:
    shown = timezone.localtime(arrived_at).strftime("%Y-%m-%d %H:%M")
    if arrived_at > timezone.now():
        raise ValidationError({"arrived_at": _("Delivery time %(value)s is in the future.") % {"value": shown}})
    if arrived_at < letter.sent_at:
        raise ValidationError(
            {
                "arrived_at": _("Delivery time %(value)s is before the letter was sent (%(sent)s).")
                % {"value": shown, "sent": timezone.localtime(letter.sent_at).strftime("%Y-%m-%d %H:%M")}
            }
        )


def _outgoing(letter: Letter, pdf: bytes) -> Outgoing:
    issuer = letter.firm.name if letter.kind == LetterKind.LAWYER_LETTER else letter.snapshot["creditor"]["name"]
    with translation.override(letter.language):
        subject = str(EMAIL_SUBJECTS[letter.kind]) % {"number": letter.number}
        body = str(EMAIL_BODY) % {
            "number": letter.number,
            "issuer": issuer,
            "verify_url": f"{settings.LETTER_VERIFY_BASE_URL}/verify/",
        }
    return Outgoing(
        channel="email",
        reference=letter.number,
        to=letter.dispatch_address,
        language=letter.language,
        subject=subject,
        text=body,
        attachments=(Attachment(f"{letter.number}.pdf", pdf, "application/pdf"),),
    )


def letter_email_attempt(*, letter_id: int, now: datetime.datetime | None = None) -> str:
    """Try once to e-mail a letter whose try is due; return sent, retry, failed, cancelled, waiting or skipped.

    Claim, send, record: the row is locked only to claim the try (re-checking the case, the PDF and
    the collection rules) and to record its outcome, never during the SMTP conversation. A letter
    not due, or claimed by another runner, is skipped, so two pollers never send one letter twice.
    """
    now = now or timezone.now()
    claimed = _email_claim(letter_id, now)
    if isinstance(claimed, str):
        return claimed
    letter, lease, pdf = claimed
    try:
        accepted = outbound.send(_outgoing(letter, pdf))
    except SendFailed as exc:
        return _email_refused(letter_id, lease=lease, failure=exc, now=now)
    return _email_accepted(letter_id, accepted=accepted)


def _email_claim(letter_id: int, now: datetime.datetime) -> str | tuple[Letter, datetime.datetime, bytes]:
    refused: list[tuple[int, list[Breach]]] = []
    claimed = _email_claim_locked(letter_id, now, refused)
    # Recorded once the letter's lock is released, as every refused contact is.
    for case_id, found in refused:
        contact_refusals_record(case_id=case_id, channel="email", rules=[b.code for b in found], actor=None)
    return claimed


def _email_claim_locked(
    letter_id: int, now: datetime.datetime, refused: list[tuple[int, list[Breach]]]
) -> str | tuple[Letter, datetime.datetime, bytes]:
    """Claim the try under the letter's lock; put the rules that refuse its e-mail, if any, in ``refused``."""
    with transaction.atomic():
        letter = (
            Letter.objects.select_for_update()
            .filter(
                pk=letter_id,
                status=LetterStatus.APPROVED,
                dispatch_channel=DispatchChannel.EMAIL,
                next_attempt_at__lte=now,
            )
            .first()
        )
        if letter is None:
            return "skipped"
        reason = _reason_not_to_send(letter)
        if reason:
            _cancel(letter, reason)
            return "cancelled"
        pdf = _pdf_bytes_if_approved(letter)
        if pdf is None:
            return _email_give_up(letter, _("The PDF is not the one approved."))
        refusing, window_opens = _email_breaches(letter, now)
        if refusing:
            refused.append((letter.case_id, refusing))
            return _email_give_up(letter, " ".join(f"{b.code}: {b.text}" for b in refusing))
        if window_opens:
            letter.next_attempt_at = window_opens
            letter.save(update_fields=["next_attempt_at"])
            return "waiting"
        lease = now + datetime.timedelta(seconds=settings.LETTER_EMAIL_LEASE_SECONDS)
        letter.next_attempt_at = lease
        letter.save(update_fields=["next_attempt_at"])
    return letter, lease, pdf


def _email_give_up(letter: Letter, error: str) -> str:
    letter.status, letter.dispatch_last_error, letter.next_attempt_at = LetterStatus.DISPATCH_FAILED, error, None
    letter.save()
    # The letter number and counts only: the error may quote the address.
    logger.warning("Letter %s: e-mail dispatch failed after %d tries.", letter.number, letter.dispatch_attempts)
    return "failed"


def _email_retry_delay(attempts: int) -> datetime.timedelta:
    """Return the wait after the ``attempts``-th refusal: the base delay, doubled after each refusal."""
    return datetime.timedelta(seconds=settings.LETTER_EMAIL_RETRY_SECONDS * 2 ** min(attempts - 1, 16))


def _email_refused(letter_id: int, *, lease: datetime.datetime, failure: SendFailed, now: datetime.datetime) -> str:
    with transaction.atomic():
        letter = (
            Letter.objects.select_for_update()
            .filter(pk=letter_id, status=LetterStatus.APPROVED, next_attempt_at=lease)
            .first()
        )
        if letter is None:  # our claim lapsed and another runner holds the letter now
            return "skipped"
        letter.dispatch_attempts += 1
        letter.dispatch_last_error = f"{failure.code}: {failure}" if failure.code else str(failure)
        if letter.dispatch_attempts >= settings.LETTER_EMAIL_MAX_ATTEMPTS:
            return _email_give_up(letter, letter.dispatch_last_error)
        letter.next_attempt_at = now + _email_retry_delay(letter.dispatch_attempts)
        letter.save()
    logger.info(
        "Letter %s: e-mail refused (%s), try %d; tried again later.",
        letter.number,
        failure.code,
        letter.dispatch_attempts,
    )
    return "retry"


def _email_accepted(letter_id: int, *, accepted: Accepted) -> str:
    sent_at = timezone.now()
    with transaction.atomic():
        letter = Letter.objects.select_for_update().get(pk=letter_id)
        if letter.status == LetterStatus.SENT:  # another runner, whose claim outlived ours, recorded it first
            return "skipped"
        # The mail server took it: the letter is sent, whatever was decided about it meanwhile (a
        # payment cancelling it leaves its reason beside the record). For e-mail the accepted
        # delivery is the arrival, so the limitation period is interrupted now (Civil Code art. 137).
        letter.status, letter.sent_at, letter.arrived_at = LetterStatus.SENT, sent_at, sent_at
        letter.limitation_interrupted_on = timezone.localdate(sent_at)
        letter.provider_message_id, letter.next_attempt_at = accepted.provider_message_id, None
        letter.dispatch_attempts, letter.dispatch_last_error = letter.dispatch_attempts + 1, ""
        letter.save()
        letter_event(EventType.LETTER_SENT, letter, channel=DispatchChannel.EMAIL)
    logger.info("Letter %s: e-mail accepted by the mail server.", letter.number)
    return "sent"


def letters_send_due(*, now: datetime.datetime | None = None, limit: int = 200) -> int:
    """Try every letter whose e-mail is due (up to ``limit``), oldest due first; return how many were sent."""
    now = now or timezone.now()
    due = (
        letters_queued_for_email()
        .filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(letter_email_attempt(letter_id=letter_id, now=now) == "sent" for letter_id in list(due))
