"""What people (and the one-case dunning path) do to cases. Every stage change goes through ``_move``."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed, has_transition_perm

from accounts.choices import CreditLineStatus
from accounts.models import CreditLine, Customer
from accounts.money import format_yuan, yuan_to_fen
from accounts.positions import credit_line_position
from accounts.services import credit_line_charge_off, credit_line_freeze
from cases.choices import (
    FINAL_STAGES,
    LADDER,
    MOVE_LABELS,
    OPEN_STAGES,
    ContactChannel,
    ContactDirection,
    ContactOutcome,
    ContactParty,
    ContactSource,
    HoldReason,
    ProposalKind,
    ProposalStatus,
    Stage,
)
from cases.closing import closed_reason, end_casework, end_placements
from cases.contact_rules import ProposedContact, breaches, customer_zone
from cases.dunning.batch import edge_reason
from cases.dunning.plan import OpenCase, Thresholds, plan_line
from cases.dunning.promises import settle_promises
from cases.models import (
    ESCALATION_METHODS,
    Agency,
    Case,
    CaseAssignment,
    CaseTransition,
    ComplianceIncident,
    Contact,
    DunningRun,
    Placement,
    Promise,
    Proposal,
    RulePack,
)
from cases.priority import refresh_queue_ranks

# What a stage change writes. Other columns (follow-up, last contact, broken promises, assignee,
# claims, agency, queue rank) belong to other writers, who update them in place: a full save of
# the case as read would put their old values back.
MOVE_FIELDS = [
    "stage",
    "held_from_stage",
    "hold_reason",
    "hold_note",
    "hold_until",
    "close_reason",
    "closed_at",
    "last_run",
    "days_past_due",
    "balance_fen",
]


class CaseConflict(Exception):
    """The case changed between the moment it was read and the moment it was saved."""


def _move(
    *,
    case: Case,
    name: str,
    actor: AbstractBaseUser | None,
    reason: str,
    run: DunningRun | None = None,
    **kwargs: object,
) -> Case:
    """Check permission, run the django-fsm transition ``name``, save and record it, in one transaction.

    ``actor`` None is the system (the dunning run), which needs no permission. The save is
    optimistic: it updates only if the stage is still the one read, else ``CaseConflict``.
    """
    method = getattr(case, name)
    if not can_proceed(method):
        raise ValidationError(
            _("Case %(number)s is %(stage)s: “%(action)s” is not possible from there.")
            % {"number": case.number, "stage": case.get_stage_display(), "action": MOVE_LABELS[name]}
        )
    if actor is not None and not has_transition_perm(method, actor):
        raise PermissionDenied(
            _("You are not allowed to “%(action)s” case %(number)s.")
            % {"action": MOVE_LABELS[name], "number": case.number}
        )
    from_stage = case.stage
    try:
        with transaction.atomic():
            method(**kwargs)
            if case.stage in FINAL_STAGES:
                case.closed_at = timezone.now()
            case.last_run = run or case.last_run
            case.save(update_fields=MOVE_FIELDS)
            CaseTransition.objects.create(
                case=case,
                from_stage=from_stage,
                to_stage=case.stage,
                actor=actor,
                reason=reason,
                run=run,
                created_at=timezone.now(),
            )
            _freeze_if_policy_says(case, from_stage)
            if case.stage in FINAL_STAGES:
                end_casework(case_ids=[case.pk], stage=case.stage)
            refresh_queue_ranks(case_ids=[case.pk])
    except (ConcurrentTransition, TransitionNotAllowed):
        raise CaseConflict(
            _("Case %(number)s was changed by someone else while you worked on it. Reload it and try again.")
            % {"number": case.number}
        ) from None
    return case


def _freeze_if_policy_says(case: Case, from_stage: str) -> None:
    policy = case.credit_line.product.policy
    if (from_stage, case.stage) == (LADDER[0], LADDER[1]) and policy.freeze_line_on_collection:
        credit_line_freeze(credit_line=case.credit_line)


def _refuse_unless_open(case: Case) -> None:
    if not Case.objects.open().filter(pk=case.pk).exists():
        raise ValidationError(_("Case %(number)s is closed: nothing more is recorded on it.") % {"number": case.number})


def _require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("A reason is required.")})
    return reason.strip()


def case_escalate(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Case:
    """Move the case one rung up the ladder (reminder → collection → legal)."""
    if case.stage not in LADDER[:-1]:
        raise ValidationError(
            _("Case %(number)s is %(stage)s: there is no stage above it.")
            % {"number": case.number, "stage": case.get_stage_display()}
        )
    next_stage = LADDER[LADDER.index(case.stage) + 1]
    name = ESCALATION_METHODS[(case.stage, next_stage)]
    return _move(case=case, name=name, actor=actor, reason=_require_reason(reason))


def case_hold(
    *,
    case: Case,
    actor: AbstractBaseUser | None,
    reason_code: str,
    note: str,
    until: datetime.date,
    today: datetime.date | None = None,
) -> Case:
    """Pause escalation for a dispute, a promise to pay or a hardship plan, until ``until`` (inclusive)."""
    today = today or timezone.localdate()
    longest = case.credit_line.product.policy.max_hold_days
    errors = {}
    if reason_code not in HoldReason.values:
        errors["reason_code"] = _("Unknown hold reason %(value)r.") % {"value": reason_code}
    if not (note or "").strip():
        errors["note"] = _("Say why the case is put on hold.")
    if not isinstance(until, datetime.date) or until <= today:
        errors["until"] = _("Hold end %(value)s must be after today (%(today)s).") % {"value": until, "today": today}
    elif (until - today).days > longest:
        errors["until"] = _("Hold end %(value)s is more than %(days)s days away, the policy's longest hold.") % {
            "value": until,
            "days": longest,
        }
    if errors:
        raise ValidationError(errors)
    reason = f"{HoldReason(reason_code).label}: {note.strip()}"
    return _move(
        case=case, name="hold", actor=actor, reason=reason, hold_reason=reason_code, note=note.strip(), until=until
    )


def case_resume(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Case:
    """Lift a hold before it expires; the case returns to the stage it left."""
    return _move(case=case, name="resume", actor=actor, reason=_require_reason(reason))


def _close(case: Case, name: str, actor: AbstractBaseUser | None, reason: str) -> Case:
    case.close_reason = _require_reason(reason)
    return _move(case=case, name=name, actor=actor, reason=case.close_reason)


def case_settle(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Case:
    """Close the case on an agreed settlement, and charge the line off so the rest is not collected again."""
    with transaction.atomic():
        _close(case, "settle", actor, reason)
        credit_line_charge_off(credit_line=case.credit_line)
    return case


def case_write_off(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Case:
    """Close the case by writing the debt off, and charge the line off so it is not collected again."""
    with transaction.atomic():
        _close(case, "write_off", actor, reason)
        credit_line_charge_off(credit_line=case.credit_line)
    return case


def case_close(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Case:
    """Close the case for a stated reason (supervisors)."""
    return _close(case, "close", actor, reason)


def case_assign(*, case: Case, actor: AbstractBaseUser | None, assignee: AbstractBaseUser | None) -> Case:
    """Give the case to ``assignee`` (or to nobody), with an audit row; only the assignee column is written."""
    if actor is not None and not actor.has_perm("cases.change_case"):
        raise PermissionDenied(_("You are not allowed to assign cases."))
    with transaction.atomic():
        previous, agency_id = Case.objects.select_for_update().values_list("assignee_id", "agency_id").get(pk=case.pk)
        if agency_id is not None and assignee is not None:
            raise ValidationError(
                _("Case %(number)s is placed with an agency; recall it before giving it to an agent.")
                % {"number": case.number}
            )
        if previous != (assignee.pk if assignee else None):
            # A claim by someone else ends with the reassignment: the case is no longer theirs to see.
            Case.objects.filter(pk=case.pk).update(assignee=assignee, claimed_by=None, claimed_until=None)
            CaseAssignment.objects.create(case=case, assigned_from_id=previous, assigned_to=assignee, actor=actor)
    case.assignee = assignee
    return case


# Which service a stage button in the admin calls, by django-fsm transition name.
# Settling and writing off are not buttons: they go through a proposal that another person approves.
ACTIONS = {
    "escalate_to_collection": case_escalate,
    "escalate_to_legal": case_escalate,
    "resume": case_resume,
    "close": case_close,
}


def _method_for(source: str, target: str) -> str:
    if target == Stage.RESOLVED:
        return "resolve"
    if source == Stage.ON_HOLD:
        return "resume"
    return ESCALATION_METHODS[(source, target)]


def case_apply_dunning(*, credit_line: CreditLine, as_of: datetime.date, run: DunningRun | None = None) -> Case | None:
    """Apply the dunning plan to one credit line through the django-fsm methods, one case at a time.

    The same plan as the set-based run (``plan_line``), taken edge by edge with ``_move``: the
    path an interactive recalculation uses, and the yardstick the batch run is measured against.
    """
    if (
        credit_line.status == CreditLineStatus.CHARGED_OFF
        and not Case.objects.open().filter(credit_line=credit_line).exists()
    ):
        return None
    position = credit_line_position(credit_line=credit_line, as_of=as_of)
    thresholds = Thresholds.of(credit_line.product.policy)
    for open_case_id in Case.objects.open().filter(credit_line=credit_line).values_list("id", flat=True):
        settle_promises(as_of=as_of, case_id=open_case_id)
    case = Case.objects.open().filter(credit_line=credit_line).select_related("credit_line__product__policy").first()
    snapshot = None
    if case is not None:
        snapshot = OpenCase(
            case.pk, case.stage, case.days_past_due, case.balance_fen, case.hold_until, case.held_from_stage
        )
    dpd, overdue = position.days_past_due, position.overdue_fen
    plan = plan_line(case=snapshot, thresholds=thresholds, days_past_due=dpd, overdue_fen=overdue, as_of=as_of)
    with transaction.atomic():
        if plan.open_case:
            case = Case.objects.create(
                credit_line=credit_line,
                customer_id=credit_line.customer_id,
                days_past_due=dpd,
                balance_fen=overdue,
                opened_on=as_of,
                opened_at=timezone.now(),
                opened_by_run=run,
                last_run=run,
            )
        if case is None:
            return None
        case.days_past_due, case.balance_fen = dpd, overdue
        for source, target in plan.edges:
            reason = edge_reason(source, target, days_past_due=dpd, thresholds=thresholds)
            _move(case=case, name=_method_for(source, target), actor=None, reason=reason, run=run)
        if not plan.edges:
            Case.objects.filter(pk=case.pk).update(days_past_due=dpd, balance_fen=overdue)
        refresh_queue_ranks(today=as_of, case_ids=[case.pk])
    return case


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


def rule_pack_for(case: Case) -> RulePack:
    """Return the collection rules the case's product follows (the China pack when its policy names none)."""
    return case.credit_line.product.policy.rule_pack or RulePack.objects.get(code="cn-default")


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
) -> Contact:
    """Record a contact. One an agent enters is checked first and refused if it breaks a rule;
    one imported after the fact is always stored, and each rule it broke opens a compliance incident.

    ``refresh_rank`` False leaves the case's queue rank to the caller, who stores many contacts and
    refreshes their cases' ranks once (building the rank's SQL is most of one contact's cost).
    """
    from letters.services import prohibited_phrases

    # An imported contact names the agent who made it, who may have left since: the importer's
    # permission is the one that counts (None: the system).
    acting = imported_by if source == ContactSource.IMPORTED else actor
    if acting is not None and not acting.has_perm("cases.add_contact"):
        raise PermissionDenied(_("You are not allowed to log contacts."))
    values = {"channel": channel, "outcome": outcome, "party": party, "direction": direction, "source": source}
    if errors := _contact_input_errors(values):
        raise ValidationError(errors)
    occurred_at = occurred_at or timezone.now()
    if source == ContactSource.ENTERED:
        _refuse_unless_open(case)
        if follow_up_on is not None and follow_up_on < timezone.localdate():
            raise ValidationError(
                {"follow_up_on": _("Follow-up date %(value)s is in the past.") % {"value": follow_up_on}}
            )
    proposed = ProposedContact(channel, party, outcome, phone_number, notes, identity_disclosed, occurred_at, direction)
    with transaction.atomic():
        # One customer's contacts are checked and written one at a time, so two agents cannot
        # both take the last call of the day.
        customer = Customer.objects.select_for_update().get(pk=case.credit_line.customer_id)
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
            prohibited=prohibited_phrases(customer.preferred_language),
            recent_calls=_recent_calls(case, pack, occurred_at),
        )
        if found and source == ContactSource.ENTERED:
            raise ValidationError([ValidationError(f"{b.code}: {b.text}", code=b.code) for b in found])
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


# How long "Work next case" keeps a case for the agent who opened it.
CLAIM_MINUTES = 15


def case_claim_next(*, agent: AbstractBaseUser) -> Case | None:
    """Claim and return the highest-priority open case of the agent (or unassigned) that nobody else is working.

    Two agents asking at the same moment get different cases: the candidate row is locked with
    SKIP LOCKED, so the second agent passes over it to the next one.
    """
    now = timezone.now()
    with transaction.atomic():
        candidates = (
            Case.objects.workable_by(agent)
            .exclude(stage=Stage.ON_HOLD)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by=agent))
            .in_queue_order()
        )
        case = candidates.select_for_update(skip_locked=True).first()
        if case is None:
            return None
        case.claimed_by, case.claimed_until = agent, now + datetime.timedelta(minutes=CLAIM_MINUTES)
        Case.objects.filter(pk=case.pk).update(claimed_by=agent, claimed_until=case.claimed_until)
    return case


def promise_record(
    *,
    case: Case,
    actor: AbstractBaseUser,
    amount: Decimal | str,
    due_date: datetime.date,
    today: datetime.date | None = None,
) -> Promise:
    """Record a promise to pay, and hold escalation until the promised date plus the policy's grace."""
    if not actor.has_perm("cases.add_promise"):
        raise PermissionDenied(_("You are not allowed to record promises."))
    _refuse_unless_open(case)
    today = today or timezone.localdate()
    policy = case.credit_line.product.policy
    amount_fen = yuan_to_fen(amount)
    errors = {}
    if amount_fen <= 0:
        errors["amount"] = _("Amount %(value)s must be greater than zero.") % {"value": amount}
    if not isinstance(due_date, datetime.date) or not today <= due_date <= today + datetime.timedelta(
        days=policy.max_hold_days
    ):
        errors["due_date"] = _("Promised date %(value)s must be between today and %(days)s days ahead.") % {
            "value": due_date,
            "days": policy.max_hold_days,
        }
    if errors:
        raise ValidationError(errors)
    grace_until = due_date + datetime.timedelta(days=policy.promise_grace_days)
    with transaction.atomic():
        promise = Promise.objects.create(
            case=case,
            amount_fen=amount_fen,
            due_date=due_date,
            grace_until=grace_until,
            created_by=actor,
            created_at=timezone.now(),
        )
        Case.objects.filter(pk=case.pk).update(follow_up_on=due_date)
        if case.stage not in LADDER:
            refresh_queue_ranks(case_ids=[case.pk])
        else:  # the hold's stage change refreshes the rank
            note = _("Promise to pay %(amount)s by %(date)s.") % {"amount": format_yuan(amount_fen), "date": due_date}
            _move(
                case=case,
                name="hold",
                actor=actor,
                reason=note,
                hold_reason=HoldReason.PROMISE_TO_PAY,
                note=note,
                until=grace_until,
            )
    return promise


def case_place(*, case: Case, agency: Agency, actor: AbstractBaseUser, today: datetime.date | None = None) -> Placement:
    """Place an open case with an agency approved and under contract today; the in-house assignee lets go."""
    if not actor.has_perm("cases.place_case"):
        raise PermissionDenied(_("You are not allowed to place cases with agencies."))
    today = today or timezone.localdate()
    if refusal := agency.refusal_on(today):
        raise ValidationError(
            {"agency": ValidationError(f"AGENCY_NOT_APPROVED: {refusal}", code="AGENCY_NOT_APPROVED")}
        )
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not locked.is_open:
            raise ValidationError(
                _("Case %(number)s is %(stage)s and cannot be placed.")
                % {"number": locked.number, "stage": locked.get_stage_display()}
            )
        if locked.agency_id is not None:
            raise ValidationError(
                _("Case %(number)s is already placed with %(agency)s; recall it first.")
                % {"number": locked.number, "agency": locked.agency}
            )
        if locked.assignee_id is not None:
            case_assign(case=locked, actor=actor, assignee=None)
        Case.objects.filter(pk=case.pk).update(agency=agency, claimed_by=None, claimed_until=None)
        placement = Placement.objects.create(case=case, agency=agency, placed_at=timezone.now(), placed_by=actor)
    case.agency, case.assignee = agency, None
    return placement


def case_recall(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Placement:
    """Take a case back from its agency, with the reason; it returns to the unassigned in-house pool."""
    if actor is not None and not actor.has_perm("cases.place_case"):
        raise PermissionDenied(_("You are not allowed to recall cases from agencies."))
    reason = _require_reason(reason)
    with transaction.atomic():
        placement = Placement.objects.select_for_update().filter(case=case, recalled_at__isnull=True).first()
        if placement is None:
            raise ValidationError(_("Case %(number)s is not placed with an agency.") % {"number": case.number})
        end_placements(case_ids=[case.pk], reason=reason, actor=actor)
    placement.refresh_from_db()
    case.agency = None
    return placement


def placements_recall_ended(*, as_of: datetime.date) -> int:
    """Recall, as the system, every case whose agency's contract has ended or which is no longer approved,
    and end the placements of cases closed meanwhile. Return how many placements ended."""
    ended = 0
    over = Placement.objects.filter(recalled_at__isnull=True).filter(
        ~Q(case__stage__in=OPEN_STAGES) | ~Agency.holds_cases_on(as_of, via="agency")
    )
    for placement in over.select_related("agency", "case"):
        if not placement.case.is_open:
            reason = closed_reason(placement.case.stage)
        else:
            reason = placement.agency.refusal_on(as_of)
        if reason:
            case_recall(case=placement.case, actor=None, reason=reason)
            ended += 1
    return ended


def proposal_submit(
    *, case: Case, actor: AbstractBaseUser, kind: str, reason: str, amount: Decimal | str | None = None
) -> Proposal:
    """Propose settling the case for an agreed amount, or writing it off; a supervisor decides."""
    if not actor.has_perm("cases.add_proposal"):
        raise PermissionDenied(_("You are not allowed to propose settlements or write-offs."))
    errors = {}
    if kind not in ProposalKind.values:
        errors["kind"] = _("Unknown proposal kind %(value)r.") % {"value": kind}
    if not (reason or "").strip():
        errors["reason"] = _("Say why.")
    amount_fen = case.balance_fen
    if case.balance_fen <= 0:
        errors["kind"] = _("Case %(number)s has no overdue balance to settle or write off.") % {"number": case.number}
    elif kind == ProposalKind.SETTLEMENT:
        amount_fen = yuan_to_fen(amount) if amount not in (None, "") else 0
        if not 0 < amount_fen <= case.balance_fen:
            errors["amount"] = _(
                "Settlement amount %(value)s must be above zero and at most the balance %(balance)s."
            ) % {
                "value": amount,
                "balance": case.balance_display,
            }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not locked.is_open:
            raise ValidationError(_("Case %(number)s is already closed.") % {"number": locked.number})
        if Proposal.objects.filter(case=case, status__in=(ProposalStatus.PENDING, ProposalStatus.APPROVED)).exists():
            raise ValidationError(
                _("Case %(number)s already has a proposal waiting; it must be decided first.") % {"number": case.number}
            )
        return Proposal.objects.create(
            case=case,
            kind=kind,
            amount_fen=amount_fen,
            balance_fen=locked.balance_fen,
            reason=reason.strip(),
            proposed_by=actor,
            proposed_at=timezone.now(),
        )


def _decide(proposal: Proposal, actor: AbstractBaseUser) -> Proposal:
    if not actor.has_perm("cases.decide_proposal"):
        raise PermissionDenied(_("You are not allowed to decide proposals."))
    locked = Proposal.objects.select_for_update().select_related("case__credit_line").get(pk=proposal.pk)
    if locked.proposed_by_id == actor.pk:
        raise PermissionDenied(_("Four eyes: you proposed this yourself, so another supervisor must decide it."))
    if locked.status != ProposalStatus.PENDING:
        raise ValidationError(
            _("This proposal is already %(status)s.") % {"status": locked.get_status_display().lower()}
        )
    locked.decided_by, locked.decided_at = actor, timezone.now()
    return locked


def proposal_approve(*, proposal: Proposal, actor: AbstractBaseUser, note: str = "") -> Proposal:
    """Approve a proposal: a write-off closes the case now; a settlement closes it once the amount is paid."""
    with transaction.atomic():
        locked = _decide(proposal, actor)
        locked.status, locked.decision_note = ProposalStatus.APPROVED, (note or "").strip()
        if locked.kind == ProposalKind.WRITE_OFF:
            reason = _("Write-off approved: %(reason)s") % {"reason": locked.reason}
            case_write_off(case=locked.case, actor=actor, reason=reason)
            locked.status, locked.completed_at = ProposalStatus.COMPLETED, timezone.now()
        locked.save()
    return locked


def proposal_reject(*, proposal: Proposal, actor: AbstractBaseUser, note: str) -> Proposal:
    """Reject a proposal, saying why; the case goes on as before."""
    with transaction.atomic():
        locked = _decide(proposal, actor)
        locked.status, locked.decision_note = ProposalStatus.REJECTED, _require_reason(note)
        locked.save()
    return locked


def settlements_complete() -> int:
    """Settle every case whose approved settlement has been paid since its approval; return how many.

    Proposals whose case closed another way (paid in full, closed) are cancelled.
    """
    from accounts.models import Payment

    done = 0
    approved = Proposal.objects.filter(status=ProposalStatus.APPROVED, kind=ProposalKind.SETTLEMENT)
    for proposal in approved.select_related("case__credit_line__product__policy"):
        case = proposal.case
        with transaction.atomic():
            if not case.is_open:
                proposal.status, proposal.completed_at = ProposalStatus.CANCELLED, timezone.now()
                proposal.save(update_fields=["status", "completed_at"])
                continue
            # Money paid once the settlement was agreed with the customer counts, even before a supervisor approved.
            paid = Payment.objects.filter(credit_line_id=case.credit_line_id, recorded_at__gte=proposal.proposed_at)
            if (paid.aggregate(total=Sum("amount_fen"))["total"] or 0) < proposal.amount_fen:
                continue
            reason = _("Settlement of %(amount)s paid.") % {"amount": format_yuan(proposal.amount_fen)}
            case_settle(case=case, actor=None, reason=reason)
            proposal.status, proposal.completed_at = ProposalStatus.COMPLETED, timezone.now()
            proposal.save(update_fields=["status", "completed_at"])
            done += 1
    return done
