"""What a case's closing ends, whichever path closed it (a person, an approved proposal, the dunning run)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import LIVE_PROPOSAL_STATUSES, ProposalStatus, Stage
from cases.models import Case, Placement, Proposal


def end_casework(*, case_ids: list[int], stage: str) -> None:
    """End what still hangs on cases that just closed: their agency placement and any proposal in play."""
    now = timezone.now()
    label = Stage(stage).label
    for placement in Placement.objects.filter(case_id__in=case_ids, recalled_at__isnull=True):
        placement.recalled_at, placement.recall_reason = now, _("Case closed as %(stage)s.") % {"stage": label}
        placement.save(update_fields=["recalled_at", "recall_reason"])
    Case.objects.filter(pk__in=case_ids, agency__isnull=False).update(agency=None)
    Proposal.objects.filter(case_id__in=case_ids, status__in=LIVE_PROPOSAL_STATUSES).update(
        status=ProposalStatus.CANCELLED, completed_at=now
    )
