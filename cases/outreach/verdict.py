"""Whether a message due now leaves: the case and ledger still call for it, and it keeps every rule.

Pure over what it is given, as the contact rules are: the sender loads the message, the customer's
recent messages and contacts, and the template, and asks; the answer says what to do and why.
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cases.choices import LADDER, MessageKind
from cases.contacts.rules import cap_breaches, customer_zone, reach_breaches

SEND, STOP, CANCEL, DEFER = "send", "stop", "cancel", "defer"


@dataclass(frozen=True)
class Verdict:
    """What to do with a due message: send it, stop it by a rule, cancel it as no longer due, or wait."""

    action: str
    rule: str = ""
    reason: str = ""
    wait_until: datetime.datetime | None = None


def _no_longer_due(message: object, pending_promise: bool) -> str | None:
    line = message.credit_line
    if line.status in ("closed", "charged_off"):
        return _("The credit line is %(status)s.") % {"status": line.get_status_display()}
    if message.kind == MessageKind.PRE_DUE:
        return _("The bill is paid.") if message.bill.outstanding_fen <= 0 else None
    case = message.case
    if case.stage not in LADDER:
        return _("Case %(number)s is %(stage)s.") % {"number": case.number, "stage": case.get_stage_display()}
    if pending_promise:
        return _("A promise to pay is pending on case %(number)s.") % {"number": case.number}
    if case.balance_fen <= 0:
        return _("Nothing is overdue on case %(number)s any more.") % {"number": case.number}
    return None


def _recipient_missing(message: object) -> bool:
    return message.channel == "email" and not message.customer.email


def message_verdict(
    *,
    message: object,
    pack: object,
    policy: object,
    now: datetime.datetime,
    pending_promise: bool,
    today_count: int,
    week_count: int,
) -> Verdict:
    """Return what to do with ``message`` at ``now``.

    ``today_count`` and ``week_count``: what was already sent to the customer and what agents and
    agencies started, the customer's local day and the last 7 days, across channels.
    """
    reason = _no_longer_due(message, pending_promise)
    if reason:
        return Verdict(CANCEL, reason=reason)
    customer = message.customer
    waiting = None
    for breach in reach_breaches(pack=pack, customer=customer, channel=message.channel, at=now):
        if breach.code != "CONTACT_OUTSIDE_WINDOW":
            return Verdict(STOP, rule=breach.code, reason=breach.text)
        waiting = breach
    if customer.vulnerable and not policy.message_vulnerable:
        return Verdict(STOP, rule="VULNERABLE_CUSTOMER", reason=stop_reason("VULNERABLE_CUSTOMER"))
    if _recipient_missing(message):
        return Verdict(STOP, rule="NO_ADDRESS", reason=stop_reason("NO_ADDRESS"))
    local = now.astimezone(customer_zone(customer.time_zone))
    for breach in cap_breaches(pack=pack, today=today_count, week=week_count, local=local):
        return Verdict(STOP, rule=breach.code, reason=breach.message)
    if waiting is not None:
        return Verdict(DEFER, rule=waiting.code, reason=waiting.text, wait_until=waiting.allowed_from)
    return Verdict(SEND)


def stop_reason(rule: str) -> str:
    """Return the plain message for a rule that stops a message at planning, where no text was stored."""
    return {
        "DO_NOT_CONTACT": _("The customer asked not to be contacted."),
        "CONSENT_WITHDRAWN": _("The customer withdrew consent to this medium."),
        "VULNERABLE_CUSTOMER": _(
            "The customer is flagged for hardship or vulnerability, and the policy sends them no automated message."
        ),
        "NO_ADDRESS": _("The customer has no address for this medium."),
        "NO_TEMPLATE": _("No active template for this message in the customer's language or in Chinese."),
    }.get(rule, rule)
