"""Named reads of messages to customers for the screens: a case's messages on its timeline, a day's tally."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.casework.models import Case
from cases.casework.selectors import TIMELINE_DEPTH, Event, who
from cases.choices import MessageStatus
from cases.outreach.models import Message
from cases.outreach.verdict import stop_reason

# Every rule that stops a message, at planning or when it is due (``plan.py``, ``verdict.py``,
# ``services.py``): the choices of the message list's filter, so that it never asks the table.
STOP_RULES = (
    "DO_NOT_CONTACT",
    "CONSENT_WITHDRAWN",
    "VULNERABLE_CUSTOMER",
    "NO_ADDRESS",
    "DAILY_MESSAGE_CAP",
    "WEEKLY_MESSAGE_CAP",
    "NO_TEMPLATE",
    "PROHIBITED_CONTENT",
)
LEFT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED)
FAILED_STATUSES = (MessageStatus.FAILED, MessageStatus.BOUNCED)


def message_stop_text(message: Message) -> str:
    """Return why the message was stopped (its rule and the rule's text) or cancelled, or ''."""
    if message.status == MessageStatus.STOPPED:
        return f"{message.stop_rule}: {message.stop_reason or stop_reason(message.stop_rule)}"
    if message.status == MessageStatus.CANCELLED:
        return message.stop_reason
    if message.status in FAILED_STATUSES:
        return message.last_error
    return ""


def _message_event(message: Message) -> Event:
    # A message that left is dated when it left; one not (yet) sent, when it was or is due.
    at = message.sent_at or message.due_at
    status = message.get_status_display()
    if message.status == MessageStatus.DELIVERED and message.delivered_at:
        status = _("%(status)s at %(time)s") % {
            "status": status,
            "time": f"{timezone.localtime(message.delivered_at):%Y-%m-%d %H:%M}",
        }
    title = f"{message.get_channel_display()} · {message.template_code} · {status}"
    return Event(at, "message", title, message_stop_text(message), who(None))


def message_events(case: Case) -> list[Event]:
    """Return the case's messages to the customer as timeline events, newest first (one query)."""
    rows = Message.objects.filter(case=case).order_by("-due_at", "-id")
    return [_message_event(message) for message in rows[:TIMELINE_DEPTH]]


@dataclass
class DaySummary:
    """What became of one day's messages: how many left, arrived, failed, and were stopped, by rule."""

    day: datetime.date
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    planned: int = 0
    cancelled: int = 0
    stopped: dict[str, int] = field(default_factory=dict)

    @property
    def stopped_total(self) -> int:
        """Return how many were stopped, whatever the rule."""
        return sum(self.stopped.values())

    @property
    def stopped_rules(self) -> list[tuple[str, str, int]]:
        """Return (rule, its text, count) for each rule that stopped messages, most first."""
        return [(rule, stop_reason(rule), n) for rule, n in sorted(self.stopped.items(), key=lambda item: -item[1])]


def message_day_summary(*, messages: QuerySet, day: datetime.date) -> DaySummary:
    """Tally the messages planned for ``day`` among ``messages`` by status and stopping rule, in one grouped query.

    "Sent" counts every message that left (delivered ones too).
    """
    summary = DaySummary(day=day)
    rows = messages.filter(planned_for=day).order_by().values_list("status", "stop_rule").annotate(n=Count("pk"))
    for status, rule, n in rows:
        if status in LEFT_STATUSES:
            summary.sent += n
        if status == MessageStatus.DELIVERED:
            summary.delivered += n
        elif status in FAILED_STATUSES:
            summary.failed += n
        elif status == MessageStatus.STOPPED:
            summary.stopped[rule] = summary.stopped.get(rule, 0) + n
        elif status in (MessageStatus.PLANNED, MessageStatus.SENDING):
            summary.planned += n
        elif status == MessageStatus.CANCELLED:
            summary.cancelled += n
    return summary
