"""Settlement and write-off proposals: a supervisor who is not the proposer decides them."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.choices import CreditLineStatus
from accounts.services import payment_post
from backoffice.kernel.roles import SUPERVISOR
from cases.choices import ProposalKind, ProposalStatus, Stage
from cases.models import Case, CaseTransition, Proposal
from cases.settlements.services import proposal_approve, proposal_reject, proposal_submit, settlements_complete
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 3, 1)  # DPD 50: agent collection


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=DUE, principal_fen=300_000)
    run_dunning(TODAY)
    return Case.objects.with_customer().get(credit_line=line)


@pytest.fixture
def other_supervisor(db):
    return user_in(SUPERVISOR, "supervisor-2")


def pay(case, amount, reference):
    payment_post(
        credit_line=case.credit_line,
        external_reference=reference,
        amount=amount,
        channel="alipay",
        received_at=timezone.now(),
    )


def test_an_approved_write_off_closes_the_case_and_the_next_run_does_not_reopen_it(
    case, agent, supervisor, run_dunning
):
    proposal = proposal_submit(case=case, actor=agent, kind=ProposalKind.WRITE_OFF, reason="Customer deceased")
    assert proposal.amount_fen == case.balance_fen == 300_000
    proposal_approve(proposal=proposal, actor=supervisor, note="Death certificate seen")

    case.refresh_from_db()
    proposal.refresh_from_db()
    assert case.stage == Stage.WRITTEN_OFF
    assert proposal.status == ProposalStatus.COMPLETED
    assert proposal.decided_by == supervisor
    assert case.credit_line.status == CreditLineStatus.CHARGED_OFF
    last = CaseTransition.objects.filter(case=case).latest("id")
    assert last.to_stage == Stage.WRITTEN_OFF
    assert last.actor == supervisor

    run_dunning(TODAY + datetime.timedelta(days=1))
    assert Case.objects.filter(credit_line=case.credit_line).count() == 1


def test_the_proposer_can_never_approve_their_own_proposal(case, supervisor, other_supervisor):
    proposal = proposal_submit(case=case, actor=supervisor, kind=ProposalKind.WRITE_OFF, reason="Fraud victim")
    with pytest.raises(PermissionDenied, match="Four eyes"):
        proposal_approve(proposal=proposal, actor=supervisor)
    proposal_approve(proposal=proposal, actor=other_supervisor)
    case.refresh_from_db()
    assert case.stage == Stage.WRITTEN_OFF


def test_agents_propose_but_cannot_decide(case, agent):
    proposal = proposal_submit(case=case, actor=agent, kind=ProposalKind.WRITE_OFF, reason="Uncollectable")
    with pytest.raises(PermissionDenied):
        proposal_approve(proposal=proposal, actor=user_in("Collection agent", "agent-other"))
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.PENDING


def test_an_approved_settlement_closes_the_case_once_the_agreed_amount_is_paid(case, agent, supervisor, run_dunning):
    proposal = proposal_submit(
        case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="2000.00", reason="Pays 2/3 in one go"
    )
    proposal_approve(proposal=proposal, actor=supervisor)
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.APPROVED

    pay(case, "1500.00", "S-1")
    assert settlements_complete() == 0
    case.refresh_from_db()
    assert case.stage == Stage.COLLECTION

    pay(case, "500.00", "S-2")
    assert settlements_complete() == 1
    case.refresh_from_db()
    assert case.stage == Stage.SETTLED
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.COMPLETED
    # The remaining ¥1,000 is not collected again.
    run_dunning(TODAY + datetime.timedelta(days=1))
    assert not Case.objects.open().filter(credit_line=case.credit_line).exists()


def test_a_settlement_needs_an_amount_within_the_balance(case, agent):
    with pytest.raises(ValidationError) as refused:
        proposal_submit(case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="3000.01", reason="x")
    assert "3000.01" in str(refused.value.message_dict["amount"])
    with pytest.raises(ValidationError) as refused:
        proposal_submit(case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount=None, reason="x")
    assert "amount" in refused.value.message_dict
    assert not Proposal.objects.exists()


def test_one_live_proposal_per_case_and_a_rejection_needs_a_reason(case, agent, supervisor):
    proposal = proposal_submit(case=case, actor=agent, kind=ProposalKind.WRITE_OFF, reason="Uncollectable")
    with pytest.raises(ValidationError, match="already has a proposal"):
        proposal_submit(case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="100", reason="again")
    with pytest.raises(ValidationError):
        proposal_reject(proposal=proposal, actor=supervisor, note=" ")
    proposal_reject(proposal=proposal, actor=supervisor, note="Customer has assets")
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.REJECTED
    case.refresh_from_db()
    assert case.stage == Stage.COLLECTION
    # Decided once is decided.
    with pytest.raises(ValidationError, match="already"):
        proposal_approve(proposal=proposal, actor=supervisor)


def test_the_supervisor_queue_decides_through_the_admin(case, agent, supervisor, client):
    proposal = proposal_submit(case=case, actor=agent, kind=ProposalKind.WRITE_OFF, reason="Uncollectable")
    client.force_login(supervisor)
    queue = client.get(reverse("admin:cases_proposal_changelist") + "?status__exact=pending")
    assert queue.status_code == 200
    assert case.number in queue.content.decode()

    page = reverse("admin:cases_proposal_decide", args=[proposal.pk])
    assert "Approve" in client.get(page).content.decode()
    response = client.post(page, {"note": "ok", "approve": "Approve"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.WRITTEN_OFF


def test_the_proposer_sees_no_decision_buttons(case, supervisor, client):
    proposal = proposal_submit(case=case, actor=supervisor, kind=ProposalKind.WRITE_OFF, reason="Uncollectable")
    client.force_login(supervisor)
    page = client.get(reverse("admin:cases_proposal_decide", args=[proposal.pk])).content.decode()
    assert 'name="approve"' not in page
    assert "Four eyes" in page
    response = client.post(reverse("admin:cases_proposal_decide", args=[proposal.pk]), {"note": "", "approve": "1"})
    assert "Four eyes" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.PENDING
