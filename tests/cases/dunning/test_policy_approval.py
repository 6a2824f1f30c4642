"""Edits of a dunning policy's thresholds wait for a second supervisor; a stale edit is refused."""

import pytest
from django.core.exceptions import ValidationError

from backoffice.kernel.approvals.edits import edit_propose
from backoffice.kernel.roles import LEGAL, SUPERVISOR
from cases.dunning.approvals import DUNNING_POLICY_CHANGE
from cases.models import DunningPolicy
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


def lowered_legal_threshold(supervisor):
    policy = DunningPolicy.objects.get(code="standard")
    policy.legal_from_dpd = 45
    return edit_propose(kind=DUNNING_POLICY_CHANGE, obj=policy, names=["legal_from_dpd"], actor=supervisor)


def legal_from() -> int:
    return DunningPolicy.objects.get(code="standard").legal_from_dpd


def test_a_lower_legal_threshold_applies_only_once_a_second_supervisor_approves(supervisor):
    proposal = lowered_legal_threshold(supervisor)
    assert legal_from() == 61
    refused_to(proposal, supervisor, superuser(), user_in(LEGAL))
    approved = approved_by(proposal, user_in(SUPERVISOR, "supervisor-second"))
    assert legal_from() == 45
    assert approved.diff == {"legal_from_dpd": ["61", "45"]}


def test_a_policy_changed_since_is_refused_as_stale(supervisor):
    proposal = lowered_legal_threshold(supervisor)
    DunningPolicy.objects.filter(code="standard").update(collection_from_dpd=25)
    stale_refused(proposal, user_in(SUPERVISOR, "supervisor-second"))
    assert legal_from() == 61


def test_an_approved_edit_is_checked_as_a_whole_again(supervisor):
    policy = DunningPolicy.objects.get(code="standard")
    policy.legal_from_dpd = 20  # below collection (31): out of order
    proposal = edit_propose(kind=DUNNING_POLICY_CHANGE, obj=policy, names=["legal_from_dpd"], actor=supervisor)
    with pytest.raises(ValidationError, match="Thresholds must rise"):
        approved_by(proposal, user_in(SUPERVISOR, "supervisor-second"))
    assert legal_from() == 61
