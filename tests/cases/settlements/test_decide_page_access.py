"""The decision page of a proposal is read only by those who may read proposals: per role, by its address."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from backoffice.kernel.roles import AGENCY, AGENT, LEGAL, SUPERVISOR
from cases.agencies.services import case_place
from cases.choices import AgencyStatus, ProposalKind
from cases.models import Agency, AgencyMember, Case
from cases.settlements.services import proposal_submit
from cases.workload.services import case_assign
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal_on_a_placed_case(run_dunning):
    """Two write-offs proposed by an agent: one on the agent's case, one on a case since placed with an agency.

    Each role is shown the proposal on a case it may see: the agency's collector the placed one.
    """
    lines = [overdue_line(due=datetime.date(2026, 1, 10), principal_fen=300_000) for _ in range(2)]
    run_dunning(datetime.date(2026, 3, 1))
    kept, placed = (Case.objects.get(credit_line=line) for line in lines)
    supervisor, agent = user_in(SUPERVISOR, "supervisor-d"), user_in(AGENT, "agent-d")
    proposals = {}
    for case in (kept, placed):
        case_assign(case=case, actor=supervisor, assignee=agent)
        proposals[case] = proposal_submit(case=case, actor=agent, kind=ProposalKind.WRITE_OFF, reason="客户身故")
    agency = Agency.objects.create(
        name="华信商务咨询有限公司",
        status=AgencyStatus.APPROVED,
        contract_start=datetime.date(2026, 1, 1),
        contract_end=datetime.date(2027, 1, 1),
        commission_rate="12.50",
    )
    collector = user_in(AGENCY, "agency-d")
    AgencyMember.objects.create(user=collector, agency=agency)
    case_place(case=placed, agency=agency, actor=supervisor)
    users = {
        "superuser": User.objects.create_superuser("root-d", password="pw-123456"),
        SUPERVISOR: supervisor,
        AGENT: agent,
        LEGAL: user_in(LEGAL, "legal-d"),
        AGENCY: collector,
    }
    return {role: proposals[placed if role == AGENCY else kept] for role in users}, users


@pytest.mark.parametrize(
    ("role", "status"),
    [("superuser", 200), (SUPERVISOR, 200), (AGENT, 200), (LEGAL, 403), (AGENCY, 403)],
)
def test_only_roles_that_may_read_proposals_open_the_decision_page(client, proposal_on_a_placed_case, role, status):
    proposals, users = proposal_on_a_placed_case
    proposal = proposals[role]
    client.force_login(users[role])
    response = client.get(reverse("admin:cases_proposal_decide", args=[proposal.pk]))
    assert response.status_code == status
    if status == 403:
        assert "客户身故".encode() not in response.content


@pytest.mark.parametrize("role", [LEGAL, AGENCY])
def test_a_role_that_may_not_read_proposals_cannot_decide_one_either(client, proposal_on_a_placed_case, role):
    proposals, users = proposal_on_a_placed_case
    proposal = proposals[role]
    client.force_login(users[role])
    response = client.post(reverse("admin:cases_proposal_decide", args=[proposal.pk]), {"reject": "1", "note": "x"})
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "pending"
