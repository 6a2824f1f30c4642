"""Every write to proposed changes: propose, approve (which applies the change), reject, withdraw; and the one
rule that decides who may approve.

Approving runs the kind's own service in the same transaction as the decision, after locking the target
and checking that it is as it was when the change was proposed: a change proposed against values that
have moved since is refused, never applied on top of someone else's.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.kernel.approvals.kinds import ChangeKind, Values, kind_of
from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.serving import security_event


def _kind(code: str) -> ChangeKind:
    kind = kind_of(code)
    if kind is None:
        raise ValidationError(_("Unknown kind of change %(kind)r.") % {"kind": code})
    return kind


def _target(kind: ChangeKind, target_id: int | None, *, lock: bool = False) -> models.Model | None:
    if target_id is None:
        return None
    rows = kind.model.objects.select_for_update() if lock else kind.model.objects
    return rows.filter(pk=target_id).first()


def approval_refusal(user: AbstractBaseUser | None, proposal: ChangeProposal) -> str | None:
    """Say why ``user`` may not approve (or reject) the proposal, or return None if they may.

    Never the maker; never a superuser (an IT role, to whom Django grants every permission: so it is
    checked before any permission); never the author of what is proposed (a version's writer); only a
    holder of the kind's approving permission.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return _("Only a signed-in, active person decides a change.")
    if user.is_superuser:
        return _("A superuser administers the system and never approves changes: a person of the business must.")
    if proposal.maker_id == user.pk:
        return _("You proposed this change: someone else must decide it.")
    kind = kind_of(proposal.kind)
    if kind is None:
        return _("Unknown kind of change %(kind)r.") % {"kind": proposal.kind}
    if not user.has_perm(kind.approve_permission):
        return _("You may not approve changes of this kind.")
    if user.pk in kind.authors(_target(kind, proposal.target_id)):
        return _("You wrote what this change puts in force: someone else must decide it.")
    return None


def may_approve(user: AbstractBaseUser | None, proposal: ChangeProposal) -> bool:
    """Return whether ``user`` may approve (or reject) the proposal: the one rule every kind follows."""
    return approval_refusal(user, proposal) is None


def diff_of(before: Values, proposed: Values) -> dict[str, list[object]]:
    """Return, for each proposed field whose value differs, ``[before, after]``."""
    return {name: [before.get(name), value] for name, value in proposed.items() if before.get(name) != value}


def change_propose(
    *, kind: str, target: models.Model | None, proposed: Values, actor: AbstractBaseUser, note: str = ""
) -> ChangeProposal:
    """Propose a change for a second person to approve; nothing changes until they do.

    Refused if it changes nothing, or if the same object already has a change of this kind waiting
    (it must be decided or withdrawn first, so that two proposals never race each other).
    """
    change_kind = _kind(kind)
    if not actor.has_perm(change_kind.propose_permission):
        raise PermissionDenied(_("You are not allowed to propose this change."))
    before = change_kind.current(target)
    diff = diff_of(before, proposed)
    if not diff:
        raise ValidationError(_("This changes nothing: the values proposed are those in force."))
    with transaction.atomic():
        target_id = target.pk if target is not None else None
        waiting = ChangeProposal.objects.pending().for_target(kind, target_id).select_for_update().first()
        if target_id is not None and waiting is not None:
            raise ValidationError(
                _("%(target)s already has a change waiting for a second person (#%(id)s): decide or withdraw it first.")
                % {"target": waiting.target_label, "id": waiting.pk}
            )
        proposal = ChangeProposal.objects.create(
            kind=kind,
            target_id=target_id,
            target_label=str(target if target is not None else change_kind.label)[:200],
            proposed=proposed,
            before={name: before.get(name) for name in proposed},
            diff=diff,
            fingerprint=change_kind.fingerprint(target),
            note=(note or "").strip(),
            maker=actor,
            made_at=timezone.now(),
        )
    security_event("change_proposed", proposal_id=proposal.pk, kind=kind, target_id=target_id, maker_id=actor.pk)
    return proposal


def _decidable(proposal: ChangeProposal, actor: AbstractBaseUser) -> ChangeProposal:
    locked = ChangeProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ChangeStatus.PENDING:
        raise ValidationError(_("This change is already %(status)s.") % {"status": locked.get_status_display().lower()})
    refusal = approval_refusal(actor, locked)
    if refusal:
        raise PermissionDenied(refusal)
    return locked


def _refuse_if_stale(kind: ChangeKind, proposal: ChangeProposal, target: models.Model | None) -> None:
    if proposal.target_id is not None and target is None:
        raise ValidationError(_("%(target)s no longer exists: reject this change.") % {"target": proposal.target_label})
    if kind.fingerprint(target) != proposal.fingerprint:
        raise ValidationError(
            _(
                "%(target)s has changed since this change was proposed, so it would not apply to what its maker "
                "saw: reject it, and propose it again against the values in force."
            )
            % {"target": proposal.target_label}
        )


def change_approve(*, proposal: ChangeProposal, actor: AbstractBaseUser) -> ChangeProposal:
    """Approve the change and apply it through its kind's service, in one transaction with the decision.

    The target is locked and must be as it was when the change was proposed (else the change is stale
    and refused); the kind's service applies it as the approver, with its own checks.
    """
    with transaction.atomic():
        locked = _decidable(proposal, actor)
        kind = _kind(locked.kind)
        target = kind.lock(locked.target_id) if kind.lock else _target(kind, locked.target_id, lock=True)
        _refuse_if_stale(kind, locked, target)
        # Decided first, applied second, in one transaction: a service that only an approved change
        # may run (``change_being_applied``) sees the decision; if applying fails, both roll back.
        locked.status, locked.checker, locked.decided_at = ChangeStatus.APPROVED, actor, timezone.now()
        locked.save(update_fields=["status", "checker", "decided_at"])
        kind.apply(target, locked, actor)
    security_event(
        "change_approved", proposal_id=locked.pk, kind=locked.kind, maker_id=locked.maker_id, checker_id=actor.pk
    )
    return locked


def change_being_applied(
    *, proposal: ChangeProposal | None, kind: str, target: models.Model, actor: AbstractBaseUser
) -> None:
    """Refuse a person's call of a service that only an approved change may make, outside the approval.

    ``proposal`` must be the approved change of ``kind`` on ``target`` that ``actor`` decided: what the
    approval passes to the kind's service when it applies it. Called directly, without one, it raises.
    """
    approved = ChangeProposal.objects.filter(
        pk=getattr(proposal, "pk", None), kind=kind, target_id=target.pk, status=ChangeStatus.APPROVED, checker=actor
    )
    if proposal is None or not approved.exists():
        raise PermissionDenied(
            _("%(target)s changes only by an approved change: propose it, and a second person approves it.")
            % {"target": target}
        )


def change_reject(*, proposal: ChangeProposal, actor: AbstractBaseUser, reason: str) -> ChangeProposal:
    """Reject the change, saying why; nothing changes. The same rule as approving decides who may."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the change is rejected.")})
    with transaction.atomic():
        locked = _decidable(proposal, actor)
        locked.status, locked.checker, locked.decided_at = ChangeStatus.REJECTED, actor, timezone.now()
        locked.reason = reason.strip()
        locked.save(update_fields=["status", "checker", "decided_at", "reason"])
    security_event(
        "change_rejected", proposal_id=locked.pk, kind=locked.kind, maker_id=locked.maker_id, checker_id=actor.pk
    )
    return locked


def change_withdraw(*, proposal: ChangeProposal, actor: AbstractBaseUser) -> ChangeProposal:
    """Withdraw one's own change while it still waits."""
    with transaction.atomic():
        locked = ChangeProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.maker_id != actor.pk:
            raise PermissionDenied(_("Only the person who proposed a change may withdraw it."))
        if locked.status != ChangeStatus.PENDING:
            raise ValidationError(
                _("This change is already %(status)s.") % {"status": locked.get_status_display().lower()}
            )
        locked.status, locked.decided_at = ChangeStatus.WITHDRAWN, timezone.now()
        locked.save(update_fields=["status", "decided_at"])
    security_event("change_withdrawn", proposal_id=locked.pk, kind=locked.kind, maker_id=actor.pk)
    return locked
