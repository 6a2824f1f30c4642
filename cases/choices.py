"""Stages of a collection case and the escalation ladder, declared once.

The django-fsm transitions on ``Case`` and the set-based dunning run both walk ``LADDER``;
a test checks that the two graphs agree.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """Where a case is in the dunning process."""

    REMINDER = "reminder", _("Reminder")
    COLLECTION = "collection", _("Agent collection")
    LEGAL = "legal", _("Legal recovery")
    # Pauses escalation for a dispute, a promise to pay or a hardship plan; the case returns
    # to the stage it left when the hold is lifted or expires.
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved (paid in full)")
    SETTLED = "settled", _("Settled")
    WRITTEN_OFF = "written_off", _("Written off")
    CLOSED = "closed", _("Closed")


# The automatic escalation path, in order. The dunning run never skips a rung's record.
LADDER: tuple[str, ...] = (Stage.REMINDER, Stage.COLLECTION, Stage.LEGAL)
OPEN_STAGES: tuple[str, ...] = (*LADDER, Stage.ON_HOLD)
FINAL_STAGES: tuple[str, ...] = (Stage.RESOLVED, Stage.SETTLED, Stage.WRITTEN_OFF, Stage.CLOSED)


def ladder_edges(current: str, target: str) -> list[tuple[str, str]]:
    """Return the rungs from ``current`` up to ``target``, one edge per stage passed."""
    start, end = LADDER.index(current), LADDER.index(target)
    return [(LADDER[i], LADDER[i + 1]) for i in range(start, end)]


# What people call each django-fsm transition of a case (buttons, messages).
MOVE_LABELS = {
    "escalate_to_collection": _("Escalate to collection"),
    "escalate_to_legal": _("Escalate to legal"),
    "hold": _("Put on hold"),
    "resume": _("Lift hold"),
    "settle": _("Settle"),
    "write_off": _("Write off"),
    "close": _("Close"),
    "resolve": _("Resolve as paid"),
}


class HoldReason(models.TextChoices):
    """Why escalation of a case is paused."""

    DISPUTE = "dispute", _("Dispute")
    PROMISE_TO_PAY = "promise_to_pay", _("Promise to pay")
    HARDSHIP = "hardship", _("Hardship plan")


class RunStatus(models.TextChoices):
    """How a dunning run ended."""

    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")
    ABANDONED = "abandoned", _("Abandoned (stopped before the end)")


class NightStep(models.TextChoices):
    """The steps of the night, in the order it runs them (``backoffice.night.steps``)."""

    PROMISES = "promises", _("Judging promises")
    SETTLEMENTS = "settlements", _("Completing paid settlements")
    RECALLS = "recalls", _("Recalling placements")
    BATCHES = "batches", _("Opening, escalating and resolving cases")
    SHARE_OUT = "share_out", _("Sharing out cases")
    STATISTICS = "statistics", _("Refreshing statistics")
    MESSAGES = "messages", _("Planning messages")
    LETTERS = "letters", _("Drafting letters")
    AGGREGATES = "aggregates", _("Writing the reports' aggregates")


class BatchStatus(models.TextChoices):
    """Where one id range of a dunning run stands."""

    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DpdBucket(models.TextChoices):
    """Days-past-due bands used in filters and reports."""

    D1_30 = "1-30", _("1–30 days")
    D31_60 = "31-60", _("31–60 days")
    D61_90 = "61-90", _("61–90 days")
    D91_PLUS = "91+", _("91 days and more")


class ContactChannel(models.TextChoices):
    """How an agent reached (or tried to reach) someone."""

    CALL = "call", _("Call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    PUSH = "push", _("App push")
    VISIT = "visit", _("Visit")


class ContactDirection(models.TextChoices):
    """Who started the contact."""

    OUTBOUND = "outbound", _("Outbound")
    INBOUND = "inbound", _("Inbound")


class ContactParty(models.TextChoices):
    """Who was contacted."""

    CUSTOMER = "customer", _("Customer")
    GUARANTOR = "guarantor", _("Guarantor")
    THIRD_PARTY = "third_party", _("Third party")


class ContactOutcome(models.TextChoices):
    """What came of the contact."""

    CONNECTED = "connected", _("Connected")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    PROMISE = "promise", _("Promise to pay")
    REFUSED = "refused", _("Refused to pay")
    DISPUTE = "dispute", _("Dispute")
    CLAIMS_PAID = "claims_paid", _("Claims paid")


# Outcomes in which a person was actually reached.
REACHED_OUTCOMES: tuple[str, ...] = (
    ContactOutcome.CONNECTED,
    ContactOutcome.PROMISE,
    ContactOutcome.REFUSED,
    ContactOutcome.DISPUTE,
    ContactOutcome.CLAIMS_PAID,
)


class ContactSource(models.TextChoices):
    """Whether an agent entered the contact before it happened or it was imported after the fact."""

    ENTERED = "entered", _("Entered by an agent")
    IMPORTED = "imported", _("Imported")


class PromiseStatus(models.TextChoices):
    """Whether a promise to pay was kept."""

    PENDING = "pending", _("Pending")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


class AgencyStatus(models.TextChoices):
    """Where an outside collection agency stands with the lender; only approved agencies get cases."""

    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class ProposalKind(models.TextChoices):
    """What an agent asks a supervisor to agree to."""

    SETTLEMENT = "settlement", _("Settlement")
    WRITE_OFF = "write_off", _("Write-off")


class ProposalStatus(models.TextChoices):
    """Where a settlement or write-off proposal stands."""

    PENDING = "pending", _("Awaiting a supervisor")
    APPROVED = "approved", _("Approved, awaiting payment")
    REJECTED = "rejected", _("Rejected")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# A proposal still in play: at most one per case.
LIVE_PROPOSAL_STATUSES: tuple[str, ...] = (ProposalStatus.PENDING, ProposalStatus.APPROVED)


class MessageChannel(models.TextChoices):
    """How the system itself reaches a customer (the same values as a contact's channel)."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    PUSH = "push", _("App push")


class MessageKind(models.TextChoices):
    """Why a message is sent."""

    PRE_DUE = "pre_due", _("Before the due date")
    OVERDUE = "overdue", _("Overdue reminder")
    STAGE_ENTRY = "stage_entry", _("On entering a stage")


class MessageStatus(models.TextChoices):
    """Where a message to a customer stands."""

    PLANNED = "planned", _("Planned")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    STOPPED = "stopped", _("Stopped by a rule")
    CANCELLED = "cancelled", _("Cancelled (no longer due)")


# A message that may still leave: what a payment or a stop cancels.
UNSENT_MESSAGE_STATUSES: tuple[str, ...] = (MessageStatus.PLANNED,)
