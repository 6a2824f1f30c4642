"""What every kind of change waiting for a second person must show, as helpers the tests of each kind call."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.approvals.services import change_approve, may_approve


def superuser() -> User:
    """An IT administrator: every permission Django grants, and still never an approver."""
    return User.objects.create_superuser("it-admin", password="pw-123456")


def refused_to(proposal: ChangeProposal, *people: User) -> None:
    """Assert that none of ``people`` may approve the proposal, by the rule and by the service."""
    for person in people:
        assert not may_approve(person, proposal), person
        with pytest.raises(PermissionDenied):
            change_approve(proposal=proposal, actor=person)
    proposal.refresh_from_db()
    assert proposal.status == ChangeStatus.PENDING


def approved_by(proposal: ChangeProposal, checker: User) -> ChangeProposal:
    """Approve as ``checker`` and return the proposal as stored, with both names."""
    assert may_approve(checker, proposal)
    change_approve(proposal=proposal, actor=checker)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.checker) == (ChangeStatus.APPROVED, checker)
    assert proposal.maker_id is not None
    assert proposal.maker_id != checker.pk
    assert proposal.decided_at is not None
    return proposal


def stale_refused(proposal: ChangeProposal, checker: User) -> None:
    """Assert that approving a proposal whose target moved since is refused, and nothing is decided."""
    with pytest.raises(ValidationError, match="has changed since this change was proposed"):
        change_approve(proposal=proposal, actor=checker)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.checker) == (ChangeStatus.PENDING, None)
