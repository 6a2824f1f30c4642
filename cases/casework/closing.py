"""What a case's closing ends, whichever path closed it (a person, an approved proposal, the dunning run)."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import credit_lines_unfreeze
from cases.agencies.models import Placement
from cases.casework.models import Case
from cases.choices import LIVE_PROPOSAL_STATUSES, ProposalStatus, Stage
from cases.settlements.models import Proposal


def closed_reason(stage: str) -> str:
    """Why casework on a case closed as ``stage`` ended."""
    return _("Case closed as %(stage)s.") % {"stage": Stage(stage).label}


def end_placements(*, case_ids: list[int], reason: str, actor: AbstractBaseUser | None = None) -> int:
    """Take the cases back from their agencies (``actor`` None: the system), with the reason; return how many.

    The cases return to the in-house pool, unclaimed.
    """
    ended = Placement.objects.filter(case_id__in=case_ids, recalled_at__isnull=True).update(
        recalled_at=timezone.now(), recalled_by=actor, recall_reason=reason
    )
    Case.objects.filter(pk__in=case_ids, agency__isnull=False).update(
        agency=None, claimed_by=None, claimed_until=None, changed_at=timezone.now()
    )
    return ended


def end_casework(*, case_ids: list[int], stage: str) -> None:
    """End what still hangs on cases that just closed: their agency placement, any proposal in play and,
    for a case paid in full, the freeze it put on its line."""
    end_placements(case_ids=case_ids, reason=closed_reason(stage))
    # Nobody is working a closed case: a claim on it ends with it.
    Case.objects.filter(pk__in=case_ids, claimed_by__isnull=False).update(claimed_by=None, claimed_until=None)
    Proposal.objects.filter(case_id__in=case_ids, status__in=LIVE_PROPOSAL_STATUSES).update(
        status=ProposalStatus.CANCELLED, completed_at=timezone.now()
    )
    if stage == Stage.RESOLVED:
        # Only a freeze collections made is ours to lift; a line the lender froze stays frozen,
        # and a charged-off line is never reactivated (the ledger's service keeps to frozen lines).
        frozen_by_us = Case.objects.filter(pk__in=case_ids, froze_line=True).values_list("credit_line_id", flat=True)
        credit_lines_unfreeze(line_ids=list(frozen_by_us))
