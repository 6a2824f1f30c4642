"""Stage changes of a case, by people and by the one-case dunning path. Every one goes through ``case_move``."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed, has_transition_perm

from accounts.locks import credit_lines_lock
from accounts.models import ANONYMISED
from accounts.services import credit_line_charge_off, credit_line_freeze
from backoffice.kernel.events import event_record, stage_event
from cases.agencies.models import Placement
from cases.casework.closing import end_casework
from cases.casework.models import ESCALATION_METHODS, Case, CaseTransition
from cases.choices import FINAL_STAGES, LADDER, MOVE_LABELS, HoldReason
from cases.dunning.models import DunningRun
from cases.settlements.models import Proposal
from cases.workload.priority import refresh_queue_ranks

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
    "changed_at",
]


class CaseConflict(Exception):
    """The case changed between the moment it was read and the moment it was saved."""


def case_move(
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
            # The line before its case, in the order a payment and a night batch take them: the
            # move may freeze, unfreeze or charge off the line after saving the case, and holding
            # the case while waiting for a line that a batch holds, the batch waiting to write
            # the case, would be a deadlock.
            credit_lines_lock(line_ids=[case.credit_line_id])
            method(**kwargs)
            if case.stage in FINAL_STAGES:
                case.closed_at = timezone.now()
            case.last_run, case.changed_at = run or case.last_run, timezone.now()
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
            event_record(
                type=stage_event(case.stage),
                case_id=case.pk,
                credit_line_id=case.credit_line_id,
                from_stage=from_stage,
                to_stage=case.stage,
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
    entering_collection = (from_stage, case.stage) == (LADDER[0], LADDER[1])
    if entering_collection and policy.freeze_line_on_collection and credit_line_freeze(credit_line=case.credit_line):
        # Recorded so that the freeze is lifted when the case is paid, and only a freeze we made.
        Case.objects.filter(pk=case.pk).update(froze_line=True)
        case.froze_line = True


def refuse_unless_open(case: Case) -> None:
    if not Case.objects.open().filter(pk=case.pk).exists():
        raise ValidationError(_("Case %(number)s is closed: nothing more is recorded on it.") % {"number": case.number})


def require_reason(reason: str) -> str:
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
    return case_move(case=case, name=name, actor=actor, reason=require_reason(reason))


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
    return case_move(
        case=case, name="hold", actor=actor, reason=reason, hold_reason=reason_code, note=note.strip(), until=until
    )


def case_resume(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Case:
    """Lift a hold before it expires; the case returns to the stage it left."""
    return case_move(case=case, name="resume", actor=actor, reason=require_reason(reason))


def _close(case: Case, name: str, actor: AbstractBaseUser | None, reason: str) -> Case:
    case.close_reason = require_reason(reason)
    return case_move(case=case, name=name, actor=actor, reason=case.close_reason)


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
    """Close the case for a stated reason (deceased, fraud, sold...), and charge the line off.

    Charged off as after a settlement or write-off: the nightly run never opens a new case on
    the line, so a case a supervisor closed does not come back the next morning.
    """
    with transaction.atomic():
        _close(case, "close", actor, reason)
        credit_line_charge_off(credit_line=case.credit_line)
    return case


def case_notes_forget(*, cases: QuerySet[Case]) -> int:
    """Put ``ANONYMISED`` in place of what people wrote on these cases: hold notes, closing reasons, the reasons
    of their stage changes, proposals and recalls; return how many notes were replaced.

    The retention policy's step for a customer it no longer keeps: staff write the customer's
    circumstances into these (an illness, a death, an employer). Who did what and when, and every
    amount, stay. A note replaced already (or empty) is left as it is.
    """
    ids = cases.order_by().values("pk")
    replaced = 0
    with transaction.atomic():
        for model, to_case, fields in _NOTES_OF_A_CASE:
            rows = model.objects.filter(**{f"{to_case}__in": ids})
            for field in fields:
                unreplaced = rows.exclude(**{f"{field}__in": ("", ANONYMISED)})
                replaced += unreplaced.update(**{field: ANONYMISED})
    return replaced


# Each model that holds notes about a case: the path to the case, and the fields people write in.
_NOTES_OF_A_CASE = [
    (Case, "pk", ["hold_note", "close_reason"]),
    (CaseTransition, "case", ["reason"]),
    (Proposal, "case", ["reason", "decision_note"]),
    (Placement, "case", ["recall_reason"]),
]


# Which service a stage button in the admin calls, by django-fsm transition name.
# Settling, writing off and closing are not made here: they go through a proposal that another person
# approves (closing: ``cases.casework.approvals``).
ACTIONS = {
    "escalate_to_collection": case_escalate,
    "escalate_to_legal": case_escalate,
    "resume": case_resume,
}
