"""Reads the case page puts on one screen: the bills with their itemised balance, and one timeline."""

import datetime
from dataclasses import dataclass

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import Bill, Payment
from accounts.money import format_yuan
from cases.choices import ContactSource
from cases.models import Case, CaseAssignment, CaseTransition, Contact, Placement, Promise, Proposal

# How many of each kind of event the case page shows; older ones are in each record's own list.
TIMELINE_DEPTH = 50
BILL_DEPTH = 24
_COMPONENTS = ("principal", "interest", "fees")
KIND_LABELS = {
    "stage": _lazy("stage"),
    "contact": _lazy("contact"),
    "promise": _lazy("promise"),
    "payment": _lazy("payment"),
    "letter": _lazy("letter"),
    "assignment": _lazy("assignment"),
    "agency": _lazy("agency"),
    "proposal": _lazy("proposal"),
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


def _who(user: object) -> str:
    return str(user) if user is not None else _("system")


def case_bills(case: Case, *, today: datetime.date | None = None) -> tuple[list[Bill], dict[str, dict[str, int]]]:
    """Return the line's latest bills, newest due first, and what is still owed per component over all its
    bills: ``overdue`` (due before ``today``, as the letters count it) and ``upcoming`` (not yet overdue)."""
    today = today or timezone.localdate()
    bills = Bill.objects.filter(credit_line_id=case.credit_line_id)
    periods = {"overdue": Q(due_date__lt=today), "upcoming": Q(due_date__gte=today)}
    sums = bills.aggregate(
        **{
            f"{period}_{name}": Coalesce(Sum(F(f"{name}_due_fen") - F(f"{name}_paid_fen"), filter=where), 0)
            for period, where in periods.items()
            for name in _COMPONENTS
        }
    )
    owed = {period: {name: sums[f"{period}_{name}"] for name in _COMPONENTS} for period in periods}
    for figures in owed.values():
        figures["total"] = sum(figures.values())
    return list(bills.order_by("-due_date")[:BILL_DEPTH]), owed


def _transitions(case: Case) -> list[Event]:
    rows = CaseTransition.objects.filter(case=case).select_related("actor").order_by("-created_at", "-id")
    return [
        Event(
            t.created_at, "stage", f"{t.get_from_stage_display()} → {t.get_to_stage_display()}", t.reason, _who(t.actor)
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
            _who(c.agent) if c.source == ContactSource.ENTERED else _("imported"),
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
            _who(p.created_by),
        )
        for p in rows[:TIMELINE_DEPTH]
    ]


def _payments(case: Case) -> list[Event]:
    rows = Payment.objects.filter(credit_line_id=case.credit_line_id).order_by("-received_at", "-id")
    return [
        Event(
            p.received_at,
            "payment",
            _("Payment of %(amount)s received") % {"amount": format_yuan(p.amount_fen)},
            f"{p.get_channel_display()} · {p.external_reference}",
            _("lending system"),
        )
        for p in rows[:TIMELINE_DEPTH]
    ]


def _letters(case: Case) -> list[Event]:
    from letters.models import Letter

    rows = Letter.objects.filter(case=case).select_related("requested_by").order_by("-requested_at", "-id")
    return [
        Event(
            letter.requested_at,
            "letter",
            f"{letter.get_kind_display()} {letter.number}: {letter.get_status_display()}",
            letter.get_language_display(),
            _who(letter.requested_by),
            reverse("admin:letters_letter_change", args=[letter.pk]),
        )
        for letter in rows[:TIMELINE_DEPTH]
    ]


def _assignments(case: Case) -> list[Event]:
    rows = CaseAssignment.objects.filter(case=case).select_related("actor", "assigned_to").order_by("-assigned_at")
    return [
        Event(
            a.assigned_at,
            "assignment",
            _("Assigned to %(who)s") % {"who": a.assigned_to or _("nobody")},
            "",
            _who(a.actor),
        )
        for a in rows[:TIMELINE_DEPTH]
    ]


def _placements(case: Case) -> list[Event]:
    rows = Placement.objects.filter(case=case).select_related("agency", "placed_by", "recalled_by")
    events = []
    for p in rows.order_by("-placed_at")[:TIMELINE_DEPTH]:
        events.append(
            Event(p.placed_at, "agency", _("Placed with %(agency)s") % {"agency": p.agency}, "", _who(p.placed_by))
        )
        if p.recalled_at:
            title = _("Recalled from %(agency)s") % {"agency": p.agency}
            events.append(Event(p.recalled_at, "agency", title, p.recall_reason, _who(p.recalled_by)))
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
        events.append(Event(p.proposed_at, "proposal", title, p.reason, _who(p.proposed_by)))
        if p.decided_at:
            events.append(Event(p.decided_at, "proposal", p.get_status_display(), p.decision_note, _who(p.decided_by)))
    return events


_SOURCES = (_transitions, _contacts, _promises, _payments, _letters, _assignments, _placements, _proposals)


def case_timeline(case: Case) -> list[Event]:
    """Return what happened on the case, newest first: one query per kind of event, whatever the case's age."""
    events = [event for source in _SOURCES for event in source(case)]
    events.sort(key=lambda event: event.at, reverse=True)
    return events[: TIMELINE_DEPTH * 2]
