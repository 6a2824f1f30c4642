"""Sending what is due, recording the providers' receipts and replies, and cancelling what is no longer due.

The sender claims due messages in small chunks under a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so any number of workers share the queue without sending one message twice), asks
the verdict of each, hands those that may leave to the outbound layer outside any transaction,
and records what came back. A worker that dies mid-chunk leaves its lease to expire and the
messages are taken again: a message is sent at least once, and a provider's receipt for the
first copy still finds it.
"""

import datetime
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Language
from accounts.models import Customer
from accounts.services import customer_consent_withdraw
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_being_applied
from backoffice.kernel.bulksql import members, update_rows
from backoffice.kernel.outbound import Outgoing, SendFailed, send
from cases.choices import LADDER, MessageChannel, MessageStatus, PromiseStatus
from cases.contacts.models import ProhibitedPhraseList, RulePack
from cases.contacts.rules import prohibited_in
from cases.contacts.selectors import reach_counts
from cases.dunning.models import DunningPolicy
from cases.models import Promise
from cases.outreach.models import Message, MessageTemplate, ReminderRule
from cases.outreach.rendering import Rendered, TemplateUnusable, render, unknown_placeholders, values_for
from cases.outreach.verdict import CANCEL, DEFER, SEND, STOP, Verdict, message_verdict


@dataclass
class SendTally:
    """What one pass of the sender did."""

    sent: int = 0
    stopped: int = 0
    cancelled: int = 0
    deferred: int = 0
    failed: int = 0
    retrying: int = 0

    def __iadd__(self, other: "SendTally") -> "SendTally":
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
        return self

    @property
    def handled(self) -> int:
        """Return how many messages the pass took."""
        return sum(getattr(self, item.name) for item in fields(self))


def due_now(now: datetime.datetime) -> Q:
    """Return the messages to send at ``now``: planned and due, or claimed by a worker whose lease ran out."""
    return Q(status=MessageStatus.PLANNED, due_at__lte=now) | Q(status=MessageStatus.SENDING, lease_until__lt=now)


def _claim(now: datetime.datetime, limit: int) -> tuple[list[int], datetime.datetime]:
    """Lease up to ``limit`` due messages to this process; return their ids and the lease."""
    with transaction.atomic():
        query = Message.objects.filter(due_now(now)).order_by("due_at").values_list("pk", flat=True)[:limit]
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True)
        ids = list(query)
        lease = now + datetime.timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
        Message.objects.filter(pk__in=ids).update(status=MessageStatus.SENDING, lease_until=lease)
    return ids, lease


@dataclass
class _Context:
    """What the verdicts of one chunk read, loaded once for the chunk."""

    templates: dict[tuple[str, str, str], MessageTemplate]
    phrases: dict[str, list[str]]
    pending: set[int]
    counts: dict[int, list[int]]
    default_pack: RulePack | None


def _load(ids: list[int]) -> list[Message]:
    related = ("customer", "credit_line__product__policy__rule_pack", "case", "bill")
    return list(Message.objects.filter(pk__in=ids).select_related(*related).order_by("due_at", "pk"))


def _context(messages: list[Message], now: datetime.datetime) -> _Context:
    codes = {m.template_code for m in messages}
    templates = {
        (t.code, t.channel, t.language): t for t in MessageTemplate.objects.filter(code__in=codes, is_active=True)
    }
    case_ids = [m.case_id for m in messages if m.case_id]
    pending = set(
        Promise.objects.filter(case_id__in=case_ids, status=PromiseStatus.PENDING).values_list("case_id", flat=True)
    )
    return _Context(
        templates=templates,
        phrases={code: ProhibitedPhraseList.objects.in_force(code) for code in Language.values},
        pending=pending,
        counts=reach_counts({m.customer_id: m.customer for m in messages}, now, excluding=[m.pk for m in messages]),
        default_pack=RulePack.objects.filter(code="cn-default").first(),
    )


def _template_for(message: Message, context: _Context) -> MessageTemplate | None:
    for language in (message.language, Language.CHINESE):
        template = context.templates.get((message.template_code, message.channel, language))
        if template is not None:
            return template
    return None


def _recipient(message: Message) -> str:
    if message.channel == MessageChannel.SMS:
        return message.customer.mobile
    if message.channel == MessageChannel.EMAIL:
        return message.customer.email
    return message.credit_line.number


def _prohibited(rendered: Rendered, phrases: list[str]) -> str | None:
    text = f"{rendered.subject}\n{rendered.text}"
    return next(iter(prohibited_in(text, phrases)), None)


def _judge(message: Message, context: _Context, now: datetime.datetime) -> tuple[Verdict, Rendered | None]:
    policy = message.credit_line.product.policy
    pack = policy.rule_pack or context.default_pack
    today, week = context.counts[message.customer_id]
    verdict = message_verdict(
        message=message,
        pack=pack,
        policy=policy,
        now=now,
        pending_promise=message.case_id in context.pending,
        today_count=today,
        week_count=week,
    )
    if verdict.action != SEND:
        return verdict, None
    template = _template_for(message, context)
    if template is None:
        return Verdict(STOP, rule="NO_TEMPLATE", reason=""), None
    rendered = render(template, values_for(message))
    phrase = _prohibited(rendered, context.phrases.get(template.language, []))
    if phrase:
        return Verdict(STOP, rule="PROHIBITED_CONTENT", reason=f"{phrase!r}"), None
    return verdict, rendered


def _handed_over(message: Message, rendered: Rendered, now: datetime.datetime) -> str:
    """Send one message through its channel; return the status it ends in."""
    outgoing = Outgoing(
        channel=message.channel,
        reference=message.reference,
        to=_recipient(message),
        language=rendered.template.language,
        text=rendered.text,
        subject=rendered.subject,
        template_code=rendered.template.provider_template_code,
        params=rendered.params,
    )
    message.attempts += 1
    message.language, message.template_version = rendered.template.language, rendered.template.version
    try:
        accepted = send(outgoing)
    except SendFailed as failure:
        message.last_error = f"{failure.code}: {failure}" if failure.code else str(failure)
        if failure.permanent or message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
            # A mail server refusing the recipient for good is a bounce at the door.
            refused_mail = failure.permanent and message.channel == MessageChannel.EMAIL
            message.status = MessageStatus.BOUNCED if refused_mail else MessageStatus.FAILED
            return "failed"
        message.status = MessageStatus.PLANNED
        message.due_at = now + datetime.timedelta(seconds=60 * 2 ** (message.attempts - 1))
        return "retrying"
    message.status, message.sent_at, message.last_error = MessageStatus.SENT, timezone.now(), ""
    message.provider, message.provider_message_id = accepted.provider, accepted.provider_message_id
    return "sent"


def _apply(message: Message, verdict: Verdict, rendered: Rendered | None, context: _Context, now) -> str:
    message.lease_until = None
    if verdict.action == CANCEL:
        message.status, message.stop_reason = MessageStatus.CANCELLED, verdict.reason
        return "cancelled"
    if verdict.action == STOP:
        message.status, message.stop_rule, message.stop_reason = MessageStatus.STOPPED, verdict.rule, verdict.reason
        return "stopped"
    if verdict.action == DEFER:
        message.status, message.due_at = MessageStatus.PLANNED, verdict.wait_until
        return "deferred"
    outcome = _handed_over(message, rendered, now)
    if outcome == "sent":
        context.counts[message.customer_id][0] += 1
        context.counts[message.customer_id][1] += 1
    return outcome


_WRITTEN = [
    ("status", "text"),
    ("stop_rule", "text"),
    ("stop_reason", "text"),
    ("due_at", "timestamptz"),
    ("lease_until", "timestamptz"),
    ("attempts", "integer"),
    ("last_error", "text"),
    ("language", "text"),
    ("template_version", "integer"),
    ("provider", "text"),
    ("provider_message_id", "text"),
    ("sent_at", "timestamptz"),
]


def _record(messages: list[Message], lease: datetime.datetime) -> None:
    """Write what became of the chunk, only where our lease still holds (another worker may have taken one since)."""
    rows = [(m.pk, lease, *(getattr(m, name) for name, _type in _WRITTEN)) for m in messages]
    update_rows(
        Message._meta.db_table, key=("id", "bigint"), guard=("lease_until", "timestamptz"), columns=_WRITTEN, rows=rows
    )


def _renew(messages: list[Message], lease: datetime.datetime) -> tuple[list[Message], datetime.datetime]:
    """Extend our lease on the messages not yet sent; return those still ours, and the new lease.

    A chunk of slow sends can outlast a lease: renewed every third of it, no other worker takes a
    message this one is about to send, and one whose lease was taken meanwhile is left to its new holder.
    """
    renewed = timezone.now() + datetime.timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
    with transaction.atomic():
        ours = Message.objects.filter(pk__in=[m.pk for m in messages], status=MessageStatus.SENDING, lease_until=lease)
        kept = set(ours.values_list("pk", flat=True))
        Message.objects.filter(pk__in=kept).update(lease_until=renewed)
    return [m for m in messages if m.pk in kept], renewed


def _settle(message: Message, context: _Context, now: datetime.datetime) -> str:
    try:
        verdict, rendered = _judge(message, context, now)
    except TemplateUnusable as problem:
        verdict, rendered = Verdict(STOP, rule="TEMPLATE_ERROR", reason=str(problem)), None
    return _apply(message, verdict, rendered, context, now)


def messages_send_chunk(*, now: datetime.datetime | None = None, limit: int = 100) -> SendTally:
    """Claim, judge, send and record up to ``limit`` due messages; return what happened to them."""
    now = now or timezone.now()
    ids, lease = _claim(now, limit)
    if not ids:
        return SendTally()
    waiting = _load(ids)
    context, tally, done = _context(waiting, now), SendTally(), []
    renew_after = time.monotonic() + settings.MESSAGE_LEASE_SECONDS / 3
    while waiting:
        if time.monotonic() > renew_after:
            _record(done, lease)
            done = []
            waiting, lease = _renew(waiting, lease)
            renew_after = time.monotonic() + settings.MESSAGE_LEASE_SECONDS / 3
            continue
        message = waiting.pop(0)
        outcome = _settle(message, context, now)
        setattr(tally, outcome, getattr(tally, outcome) + 1)
        done.append(message)
    _record(done, lease)
    return tally


def messages_send_due(
    *,
    now: datetime.datetime | None = None,
    limit: int | None = None,
    chunk: int = 100,
    on_chunk: Callable[[SendTally], None] | None = None,
) -> SendTally:
    """Send what is due at ``now``, chunk by chunk, up to ``limit`` messages (None: until nothing is due).

    ``on_chunk`` is called with the running total after each chunk.
    """
    total = SendTally()
    while limit is None or total.handled < limit:
        done = messages_send_chunk(now=now, limit=chunk if limit is None else min(chunk, limit - total.handled))
        if not done.handled:
            break
        total += done
        if on_chunk:
            on_chunk(total)
    return total


def messages_cancel_unsent(*, line_ids: list[int], reason: str) -> int:
    """Cancel the planned messages of these lines that are no longer due: their case closed, their bill paid.

    Called after a same-day payment, before the messages' due time; the sender checks again anyway.
    """
    unsent = Message.objects.unsent().filter(credit_line_id__in=members(line_ids))
    no_case = Q(case__isnull=False) & ~Q(case__stage__in=LADDER)
    paid_bill = Q(bill__isnull=False) & Q(
        bill__principal_paid_fen__gte=F("bill__principal_due_fen"),
        bill__interest_paid_fen__gte=F("bill__interest_due_fen"),
        bill__fees_paid_fen__gte=F("bill__fees_due_fen"),
    )
    return unsent.filter(no_case | paid_bill).update(status=MessageStatus.CANCELLED, stop_reason=reason)


@dataclass
class ReceiptTally:
    """What a batch of receipts changed."""

    delivered: int = 0
    failed: int = 0
    unknown: int = 0
    repeated: int = 0


_REFERENCE = re.compile(r"MSG-([0-9]{1,18})")


class ReceiptTooEarly(Exception):
    """A receipt for a message whose sending is not recorded yet: the provider should push it again later."""


def _message_of(provider: str, channel: str, receipt: object) -> Message | None:
    """Return the message a receipt is about, by the provider's id, else by our reference on a message of its channel."""
    found = Message.objects.filter(provider=provider, provider_message_id=receipt.provider_message_id).first()
    if found is not None:
        return found
    match = _REFERENCE.fullmatch(str(receipt.reference))
    if match is None:
        return None
    found = Message.objects.filter(pk=int(match.group(1)), channel=channel).first()
    if found is not None and found.status == MessageStatus.SENDING:
        raise ReceiptTooEarly(receipt.reference)
    # Only a message that was sent has a fate to report; a planned or stopped one is not this receipt's.
    return found if found is not None and found.status == MessageStatus.SENT else None


def message_receipts_record(
    *, provider: str, receipts: list[object], channel: str = MessageChannel.SMS, bounced: bool = False
) -> ReceiptTally:
    """Record the provider's delivery receipts; a receipt seen before changes nothing.

    ``bounced``: the channel's failure is a bounce (e-mail), not a plain failure. Raise
    ``ReceiptTooEarly`` when one is about a message whose sending is still being recorded (the
    receipts before it are kept; a receipt pushed again is counted as repeated).
    """
    tally = ReceiptTally()
    for receipt in receipts:
        with transaction.atomic():
            message = _message_of(provider, channel, receipt)
            if message is None:
                tally.unknown += 1
                continue
            message = Message.objects.select_for_update().get(pk=message.pk)
            if message.status in (MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.BOUNCED):
                tally.repeated += 1
                continue
            if receipt.delivered:
                message.status, message.delivered_at = MessageStatus.DELIVERED, receipt.at
                tally.delivered += 1
            else:
                message.status = MessageStatus.BOUNCED if bounced else MessageStatus.FAILED
                message.last_error = f"{receipt.error_code}: {receipt.error_message}".strip(": ")
                tally.failed += 1
            message.save(update_fields=["status", "delivered_at", "last_error"])
    return tally


def _mobile_of(number: str) -> str:
    """Return a reply's number as customers' mobiles are stored (``+86 138…`` and ``86138…`` as ``138…``)."""
    digits = re.sub(r"[^0-9]", "", number)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def sms_stop_requests_record(*, phone_numbers: list[str], actor: AbstractBaseUser | None = None) -> int:
    """Withdraw the SMS consent of the customers who replied asking to stop; cancel their planned SMS."""
    withdrawn = 0
    numbers = {_mobile_of(number) for number in phone_numbers}
    for customer in Customer.objects.filter(mobile__in=numbers, consents_to_sms=True):
        customer_consent_withdraw(
            customer=customer, channel="sms", actor=actor, reason=_("The customer replied to an SMS asking to stop.")
        )
        Message.objects.unsent().filter(customer=customer, channel=MessageChannel.SMS).update(
            status=MessageStatus.STOPPED, stop_rule="CONSENT_WITHDRAWN", stop_reason=""
        )
        withdrawn += 1
    return withdrawn


def message_template_problems(template: MessageTemplate) -> dict[str, list[str]]:
    """Return, by field, what stops the template from being saved or used: phrases, placeholders, the SMS code."""
    problems: dict[str, list[str]] = defaultdict(list)
    phrases = ProhibitedPhraseList.objects.in_force(template.language)
    for field in ("subject", "body"):
        text = getattr(template, field)
        problems[field] += [_("Prohibited phrase: %(phrase)r.") % {"phrase": p} for p in prohibited_in(text, phrases)]
        try:
            unknown = sorted(unknown_placeholders(text))
        except ValueError:
            problems[field].append(_("A brace is not closed or not opened; write {name}, and {{ for a brace."))
            continue
        if unknown:
            names = ", ".join(f"{{{name}}}" for name in unknown)
            problems[field].append(_("No message can fill %(names)s.") % {"names": names})
    if template.channel == MessageChannel.SMS and not template.provider_template_code.strip():
        problems["provider_template_code"].append(_("An SMS template needs the code its provider approved it under."))
    return {field: found for field, found in problems.items() if found}


def message_template_in_use(template: MessageTemplate) -> bool:
    """Return whether the stored version is active or was ever sent, so that it must not change."""
    stored = MessageTemplate.objects.filter(pk=template.pk).values("is_active", "activated_at").first()
    if stored is None:
        return False
    if stored["is_active"] or stored["activated_at"] is not None:
        # The sender renders only active versions: one never activated was never sent.
        return True
    return Message.objects.filter(
        template_code=template.code,
        channel=template.channel,
        language=template.language,
        template_version=template.version,
    ).exists()


def message_template_save(*, template: MessageTemplate, actor: AbstractBaseUser | None) -> MessageTemplate:
    """Save a template's wording; a version in use is kept as it was and the edits become the next version.

    The new or edited version is inactive until someone other than its author activates it.
    """
    problems = message_template_problems(template)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        if template.pk is None or message_template_in_use(template):
            latest = MessageTemplate.objects.filter(
                code=template.code, channel=template.channel, language=template.language
            ).aggregate(version=Max("version"))["version"]
            template.pk, template.version, template.created_by = None, (latest or 0) + 1, actor
            template.is_active, template.activated_by, template.activated_at = False, None, None
        else:
            # Whoever last wrote the wording is its author: four eyes means someone else activates it.
            template.created_by = actor
        template.full_clean()
        template.save()
    return template


# The kind of change that activates a version (``cases.outreach.approvals``).
MESSAGE_TEMPLATE_ACTIVATE = "message_template_activate"


def message_template_activate(
    *, template: MessageTemplate, actor: AbstractBaseUser | None, proposal: ChangeProposal | None = None
) -> MessageTemplate:
    """Make this version the one sent for its code, channel and language; the previous one stops.

    Four eyes: a person activates a version only by approving its proposed activation (``proposal``,
    passed by the approval), and never their own wording. The checks run again, since the prohibited
    phrases may have grown since it was saved.
    """
    if actor is not None and not actor.has_perm("cases.change_messagetemplate"):
        raise PermissionDenied(_("You are not allowed to activate message templates."))
    if actor is not None and template.created_by_id == actor.pk:
        raise ValidationError(_("You wrote %(template)s: someone else must activate it.") % {"template": template})
    if actor is not None:
        change_being_applied(proposal=proposal, kind=MESSAGE_TEMPLATE_ACTIVATE, target=template, actor=actor)
    problems = message_template_problems(template)
    if problems:
        raise ValidationError([message for found in problems.values() for message in found])
    with transaction.atomic():
        template = MessageTemplate.objects.select_for_update().get(pk=template.pk)
        if template.is_active:
            raise ValidationError(_("%(template)s is already active.") % {"template": template})
        # The previous version first: one active version per code, channel and language (a constraint).
        MessageTemplate.objects.filter(
            code=template.code, channel=template.channel, language=template.language, is_active=True
        ).update(is_active=False)
        template.is_active, template.activated_by, template.activated_at = True, actor, timezone.now()
        template.save(update_fields=["is_active", "activated_by", "activated_at"])
    return template


# The kind of change that replaces a policy's cadence of reminders (``cases.outreach.approvals``).
REMINDER_CADENCE_CHANGE = "reminder_cadence_change"
CADENCE_FIELDS = ("kind", "stage", "channel", "days", "every_days", "template_code")


def cadence_sorted(rules: list[dict]) -> list[dict]:
    """Return the rules with just the cadence's fields, in one order, so that two equal cadences compare equal."""
    kept = [{name: rule.get(name) for name in CADENCE_FIELDS} for rule in rules]
    return sorted(kept, key=lambda rule: [str(rule[name]) for name in CADENCE_FIELDS])


def reminder_cadence_of(policy: DunningPolicy) -> list[dict]:
    """Return the policy's cadence: each reminder rule's fields, in ``cadence_sorted`` order."""
    return cadence_sorted(list(ReminderRule.objects.filter(policy=policy).values(*CADENCE_FIELDS)))


def reminder_cadence_replace(
    *, policy: DunningPolicy, rules: list[dict], actor: AbstractBaseUser | None, proposal: ChangeProposal | None = None
) -> list[ReminderRule]:
    """Make ``rules`` the policy's whole cadence, each rule checked as a whole, in one transaction.

    Which messages go out, by which channel, how often, is a policy change as the thresholds are: a
    person changes it only by approving a proposed change (``proposal``, passed by the approval) that
    another supervisor made.
    """
    if actor is not None:
        change_being_applied(proposal=proposal, kind=REMINDER_CADENCE_CHANGE, target=policy, actor=actor)
    built = [
        ReminderRule(policy=policy, **{name: _EMPTY[name] if value is None else value for name, value in rule.items()})
        for rule in cadence_sorted(rules)
    ]
    for rule in built:
        rule.full_clean(exclude=["policy"])
    with transaction.atomic():
        ReminderRule.objects.filter(policy=policy).delete()
        return ReminderRule.objects.bulk_create(built)


# What an empty value of each cadence field is stored as.
_EMPTY = {"kind": "", "stage": "", "channel": "", "days": "", "every_days": None, "template_code": ""}
