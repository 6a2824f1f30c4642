"""Settlement and write-off proposals: an agent proposes, another person decides, a paid settlement closes the case."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import credit_lines_lock
from accounts.positions import paid_fen, payments_since
from backoffice.kernel.money import format_yuan, yuan_to_fen
from cases.casework.models import Case
from cases.casework.services import case_settle, case_write_off, require_reason
from cases.choices import ProposalKind, ProposalStatus
from cases.settlements.models import Proposal


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
    # The line, then the case, then the proposal: the order a night batch takes them when it
    # resolves the case and cancels its proposals. Holding the proposal or the case while waiting
    # for a line the batch holds, the batch waiting to write them, would be a deadlock.
    locked = proposal_lock(proposal.pk)
    case = locked.case
    if locked.proposed_by_id == actor.pk:
        raise PermissionDenied(_("Four eyes: you proposed this yourself, so another supervisor must decide it."))
    if locked.status == ProposalStatus.CANCELLED and not case.is_open:
        raise ValidationError(
            _("Case %(number)s was closed as %(stage)s meanwhile, which cancelled this proposal.")
            % {"number": case.number, "stage": case.get_stage_display()}
        )
    if locked.status != ProposalStatus.PENDING:
        raise ValidationError(
            _("This proposal is already %(status)s.") % {"status": locked.get_status_display().lower()}
        )
    locked.decided_by, locked.decided_at = actor, timezone.now()
    return locked


def needs_second_approval(proposal: Proposal) -> bool:
    """Whether the proposal is above ``SECOND_APPROVAL_ABOVE_FEN``, so a collections manager approves it second."""
    return proposal.amount_fen > settings.SECOND_APPROVAL_ABOVE_FEN


def _refuse_unless_second_approval(
    proposal: Proposal, actor: AbstractBaseUser, first_approver: AbstractBaseUser | None
) -> None:
    if first_approver is None:
        raise ValidationError(
            _("Above %(limit)s a collections manager approves second: your approval is proposed to them.")
            % {"limit": format_yuan(settings.SECOND_APPROVAL_ABOVE_FEN)}
        )
    if not actor.has_perm("cases.decide_large_proposal") or first_approver.pk == actor.pk:
        raise PermissionDenied(_("A collections manager other than the first approver gives the second approval."))


def proposal_approve(
    *, proposal: Proposal, actor: AbstractBaseUser, note: str = "", first_approver: AbstractBaseUser | None = None
) -> Proposal:
    """Approve a proposal: a write-off closes the case now; a settlement closes it once the amount is paid.

    Above ``SECOND_APPROVAL_ABOVE_FEN`` only as the second approval: ``actor`` a collections manager
    approving what ``first_approver``, a supervisor, approved first (``cases.settlements.approvals``).
    """
    with transaction.atomic():
        locked = _decide(proposal, actor)
        if needs_second_approval(locked):
            _refuse_unless_second_approval(locked, actor, first_approver)
        locked.status, locked.decision_note = ProposalStatus.APPROVED, (note or "").strip()
        if locked.kind == ProposalKind.WRITE_OFF:
            reason = _("Write-off approved: %(reason)s") % {"reason": locked.reason}
            case_write_off(case=locked.case, actor=actor, reason=reason)
            locked.status, locked.completed_at = ProposalStatus.COMPLETED, timezone.now()
        locked.save()
    return locked


def proposal_lock(proposal_id: int) -> Proposal | None:
    """Lock the proposal's line, then its case, then the proposal: the order a night batch takes them."""
    found = Proposal.objects.filter(pk=proposal_id).values_list("case__credit_line_id", "case_id").first()
    if found is None:
        return None
    line_id, case_id = found
    credit_lines_lock(line_ids=[line_id])
    case = Case.objects.select_for_update(no_key=True, of=("self",)).select_related("credit_line").get(pk=case_id)
    locked = Proposal.objects.select_for_update().get(pk=proposal_id)
    locked.case = case
    return locked


def proposal_reject(*, proposal: Proposal, actor: AbstractBaseUser, note: str) -> Proposal:
    """Reject a proposal, saying why; the case goes on as before."""
    with transaction.atomic():
        locked = _decide(proposal, actor)
        locked.status, locked.decision_note = ProposalStatus.REJECTED, require_reason(note)
        locked.save()
    return locked


def settlements_complete() -> int:
    """Settle every case whose approved settlement has been paid since its approval; return how many.

    Proposals whose case closed another way (paid in full, closed) are cancelled. Each is taken in
    its own transaction, its line then its case then itself locked and read afresh, so that a case a
    payment or a night batch changed since the list was read is judged as it stands now.
    """
    done = 0
    approved = Proposal.objects.filter(status=ProposalStatus.APPROVED, kind=ProposalKind.SETTLEMENT)
    for proposal_id, case_id, line_id in approved.values_list("pk", "case_id", "case__credit_line_id"):
        with transaction.atomic():
            credit_lines_lock(line_ids=[line_id])
            case = Case.objects.select_for_update(no_key=True, of=("self",)).get(pk=case_id)
            proposal = Proposal.objects.select_for_update().get(pk=proposal_id)
            if proposal.status != ProposalStatus.APPROVED:
                continue
            if not case.is_open:
                proposal.status, proposal.completed_at = ProposalStatus.CANCELLED, timezone.now()
                proposal.save(update_fields=["status", "completed_at"])
                continue
            # Money paid once the settlement was agreed with the customer counts, even before a supervisor approved.
            paid = paid_fen(payments_since(credit_line_id=case.credit_line_id, since=proposal.proposed_at))
            if paid < proposal.amount_fen:
                continue
            reason = _("Settlement of %(amount)s paid.") % {"amount": format_yuan(proposal.amount_fen)}
            case_settle(case=case, actor=None, reason=reason)
            proposal.status, proposal.completed_at = ProposalStatus.COMPLETED, timezone.now()
            proposal.save(update_fields=["status", "completed_at"])
            done += 1
    return done
