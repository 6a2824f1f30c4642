"""Reads the case page puts on one screen: the bills with their itemised balance, and one timeline."""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Bill, Payment
from accounts.positions import line_balance
from backoffice.kernel.money import format_yuan
from cases.agencies.models import Placement
from cases.casework.models import Case, CaseTransition
from cases.choices import ContactSource
from cases.contacts.models import Contact
from cases.promises.models import Promise
from cases.settlements.models import Proposal
from cases.workload.models import CaseAssignment

# How many of each kind of event the case page shows; older ones are in each record's own list.
TIMELINE_DEPTH = 50
BILL_DEPTH = 24
KIND_LABELS = {
    "stage": gettext_lazy("stage"),
    "contact": gettext_lazy("contact"),
    "promise": gettext_lazy("promise"),
    "payment": gettext_lazy("payment"),
    "letter": gettext_lazy("letter"),
    "assignment": gettext_lazy("assignment"),
    "agency": gettext_lazy("agency"),
    "proposal": gettext_lazy("proposal"),
    "message": gettext_lazy("message to the customer"),
}


@dataclass(frozen=True)
class Event:
    """One line of the case timeline."""

    at: datetime.datetime
    kind: str
    title: str
    detail: str
    actor: str
    url: str = ""

    @property
    def kind_label(self) -> str:
        """Name the kind of event for people."""
        return str(KIND_LABELS[self.kind])


def who(user: object) -> str:
    return str(user) if user is not None else _("system")


def case_bills(case: Case, *, today: datetime.date | None = None) -> tuple[list[Bill], dict[str, dict[str, int]]]:
    """Return the line's latest bills, newest due first, and what is still owed per component over all its
    bills: ``overdue`` (due before ``today``, as the letters count it) and ``upcoming`` (not yet overdue)."""
    balance = line_balance(credit_line_id=case.credit_line_id, as_of=today or timezone.localdate())
    owed = {
        period: {**amounts.owed, "total": amounts.total_fen}
        for period, amounts in (("overdue", balance.overdue), ("upcoming", balance.upcoming))
    }
    bills = Bill.objects.filter(credit_line_id=case.credit_line_id).order_by("-due_date")
    return list(bills[:BILL_DEPTH]), owed


def _transitions(case: Case) -> list[Event]:
    rows = CaseTransition.objects.filter(case=case).select_related("actor").order_by("-created_at", "-id")
    return [
        Event(
            t.created_at, "stage", f"{t.get_from_stage_display()} → {t.get_to_stage_display()}", t.reason, who(t.actor)
        )
        for t in rows[:TIMELINE_DEPTH]
    ]


def _contacts(case: Case) -> list[Event]:
    rows = Contact.objects.filter(case=case).select_related("agent").order_by("-occurred_at", "-id")
    return [
        Event(
            c.occurred_at,
            "contact",
            f"{c.get_channel_display()} · {c.get_party_display()} · {c.get_outcome_display()}",
            c.notes,
            who(c.agent) if c.source == ContactSource.ENTERED else _("imported"),
        )
        for c in rows[:TIMELINE_DEPTH]
    ]


def _promises(case: Case) -> list[Event]:
    rows = Promise.objects.filter(case=case).select_related("created_by").order_by("-created_at", "-id")
    return [
        Event(
            p.created_at,
            "promise",
            _("Promise to pay %(amount)s by %(date)s: %(status)s")
            % {"amount": format_yuan(p.amount_fen), "date": p.due_date, "status": p.get_status_display()},
            "",
            who(p.created_by),
        )
        for p in rows[:TIMELINE_DEPTH]
    ]


def _payment_title(payment: Payment) -> str:
    if payment.is_reversal:
        return _("Payment of %(amount)s reversed: %(reason)s") % {
            "amount": format_yuan(-payment.amount_fen),
            "reason": payment.get_reversal_reason_display(),
        }
    return _("Payment of %(amount)s received") % {"amount": format_yuan(payment.amount_fen)}


def _payments(case: Case) -> list[Event]:
    rows = Payment.objects.filter(credit_line_id=case.credit_line_id).order_by("-received_at", "-id")
    return [
        Event(
            p.received_at,
            "payment",
            _payment_title(p),
            " · ".join(filter(None, [p.get_channel_display(), p.external_reference, p.reversal_note])),
            _("lending system"),
        )
        for p in rows[:TIMELINE_DEPTH]
    ]


def _assignments(case: Case) -> list[Event]:
    rows = CaseAssignment.objects.filter(case=case).select_related("actor", "assigned_to").order_by("-assigned_at")
    return [
        Event(
            a.assigned_at,
            "assignment",
            _("Assigned to %(who)s") % {"who": a.assigned_to or _("nobody")},
            "",
            who(a.actor),
        )
        for a in rows[:TIMELINE_DEPTH]
    ]


def _placements(case: Case) -> list[Event]:
    rows = Placement.objects.filter(case=case).select_related("agency", "placed_by", "recalled_by")
    events = []
    for p in rows.order_by("-placed_at")[:TIMELINE_DEPTH]:
        events.append(
            Event(p.placed_at, "agency", _("Placed with %(agency)s") % {"agency": p.agency}, "", who(p.placed_by))
        )
        if p.recalled_at:
            title = _("Recalled from %(agency)s") % {"agency": p.agency}
            events.append(Event(p.recalled_at, "agency", title, p.recall_reason, who(p.recalled_by)))
    return events


def _proposals(case: Case) -> list[Event]:
    rows = Proposal.objects.filter(case=case).select_related("proposed_by", "decided_by").order_by("-proposed_at")
    events = []
    for p in rows[:TIMELINE_DEPTH]:
        title = _("%(kind)s of %(amount)s proposed: %(status)s") % {
            "kind": p.get_kind_display(),
            "amount": format_yuan(p.amount_fen),
            "status": p.get_status_display(),
        }
        events.append(Event(p.proposed_at, "proposal", title, p.reason, who(p.proposed_by)))
        if p.decided_at:
            events.append(Event(p.decided_at, "proposal", p.get_status_display(), p.decision_note, who(p.decided_by)))
    return events


_SOURCES = (_transitions, _contacts, _promises, _payments, _assignments, _placements, _proposals)


def case_timeline(case: Case, *, more: Iterable[Callable[[Case], list[Event]]] = ()) -> list[Event]:
    """Return what happened on the case, newest first: one query per kind of event, whatever the case's age.

    ``more`` adds the events of apps above collections (the letters), which this app does not import.
    """
    events = [event for source in (*_SOURCES, *more) for event in source(case)]
    events.sort(key=lambda event: event.at, reverse=True)
    return events[: TIMELINE_DEPTH * 2]
