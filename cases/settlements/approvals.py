"""A settlement or write-off above ``SECOND_APPROVAL_ABOVE_FEN`` takes a second approval, by a collections manager.

A supervisor's approval of such a proposal is itself proposed: the change waits, with the supervisor as
its maker, until a collections manager (never that supervisor, never the agent who proposed the
settlement, never a superuser) approves it; ``proposal_approve`` then applies it.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.kernel.approvals.kinds import ChangeKind, Values, register
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose
from cases.choices import ProposalStatus
from cases.settlements.models import Proposal
from cases.settlements.services import proposal_approve, proposal_lock

LARGE_PROPOSAL_APPROVE = "large_proposal_approve"


def _current(proposal: Proposal | None) -> Values:
    if proposal is None:
        return {}
    return {"status": proposal.status, "amount_fen": proposal.amount_fen, "decision_note": proposal.decision_note}


def _state(proposal: Proposal | None) -> Values:
    """The proposal and its case as they stand: a case that moved or was paid since is judged afresh."""
    if proposal is None:
        return {}
    case = proposal.case
    return {**_current(proposal), "stage": case.stage, "balance_fen": case.balance_fen}


def _show(name: str, value: object) -> object:
    if name == "status" and value in ProposalStatus.values:
        return ProposalStatus(value).label
    return value


def _apply(target: Proposal, proposal: ChangeProposal, actor: AbstractBaseUser) -> Proposal:
    note = proposal.proposed["decision_note"]
    return proposal_approve(proposal=target, actor=actor, note=note, first_approver=proposal.maker)


def _authors(proposal: Proposal | None) -> set[int]:
    return {proposal.proposed_by_id} if proposal is not None else set()


def large_proposal_approve_first(*, proposal: Proposal, actor: AbstractBaseUser, note: str = "") -> ChangeProposal:
    """Give a supervisor's first approval to a proposal above the limit: it waits for a collections manager."""
    if not actor.has_perm("cases.decide_proposal"):
        raise PermissionDenied(_("You are not allowed to decide proposals."))
    if proposal.proposed_by_id == actor.pk:
        raise PermissionDenied(_("Four eyes: you proposed this yourself, so another supervisor must decide it."))
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(
            _("This proposal is already %(status)s.") % {"status": proposal.get_status_display().lower()}
        )
    proposed = {**_current(proposal), "status": ProposalStatus.APPROVED.value, "decision_note": (note or "").strip()}
    return change_propose(kind=LARGE_PROPOSAL_APPROVE, target=proposal, proposed=proposed, actor=actor, note=note)


def register_kinds() -> None:
    """Register the settlements' kind of change."""
    register(
        ChangeKind(
            code=LARGE_PROPOSAL_APPROVE,
            label=gettext_lazy("Second approval of a large settlement or write-off"),
            model=Proposal,
            propose_permission="cases.decide_proposal",
            approve_permission="cases.decide_large_proposal",
            current=_current,
            state=_state,
            lock=proposal_lock,
            apply=_apply,
            authors=_authors,
            labels={"status": gettext_lazy("status"), "decision_note": gettext_lazy("decision note")},
            show=_show,
        )
    )
