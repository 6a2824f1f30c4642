"""Settlements and write-offs above SECOND_APPROVAL_ABOVE_FEN: a supervisor approves first, a collections manager second."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.services import payment_post
from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.roles import COLLECTIONS_MANAGER, SUPERVISOR
from backoffice.sameday import lines_refresh
from cases.casework.services import case_hold
from cases.choices import HoldReason, ProposalKind, ProposalStatus, Stage
from cases.models import Case, CaseTransition, Proposal
from cases.settlements.approvals import large_proposal_approve_first
from cases.settlements.services import proposal_approve, proposal_submit
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def limit(settings):
    settings.SECOND_APPROVAL_ABOVE_FEN = 100_000  # 1,000 yuan


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=DUE, principal_fen=300_000)
    run_dunning(TODAY)
    return Case.objects.with_customer().get(credit_line=line)


@pytest.fixture
def manager(db):
    return user_in(COLLECTIONS_MANAGER, "manager-t")


@pytest.fixture
def write_off(case, agent):
    return proposal_submit(case=case, actor=agent, kind=ProposalKind.WRITE_OFF, reason="无力偿还")


def stage_of(case: Case) -> str:
    return Case.objects.get(pk=case.pk).stage


def test_a_supervisor_alone_cannot_approve_a_write_off_above_the_limit(write_off, supervisor, case):
    with pytest.raises(ValidationError, match="collections manager"):
        proposal_approve(proposal=write_off, actor=supervisor, note="同意")
    assert stage_of(case) == Stage.COLLECTION


def test_the_supervisors_approval_waits_for_a_collections_manager_who_writes_the_case_off(
    write_off, supervisor, manager, agent, case
):
    change = large_proposal_approve_first(proposal=write_off, actor=supervisor, note="已核实")
    assert stage_of(case) == Stage.COLLECTION
    second_supervisor = user_in(SUPERVISOR, "supervisor-second")
    refused_to(change, supervisor, superuser(), second_supervisor, agent)
    approved = approved_by(change, manager)
    assert stage_of(case) == Stage.WRITTEN_OFF
    write_off.refresh_from_db()
    assert (write_off.status, write_off.decided_by, write_off.decision_note) == (
        ProposalStatus.COMPLETED,
        manager,
        "已核实",
    )
    assert CaseTransition.objects.filter(case=case).latest("created_at").actor == manager
    assert (approved.maker, approved.checker) == (supervisor, manager)
    assert approved.diff["status"] == [ProposalStatus.PENDING, ProposalStatus.APPROVED]


def test_the_agent_who_proposed_cannot_give_the_second_approval_even_as_a_manager(case, supervisor, manager):
    write_off = proposal_submit(case=case, actor=manager, kind=ProposalKind.WRITE_OFF, reason="无力偿还")
    change = large_proposal_approve_first(proposal=write_off, actor=supervisor)
    refused_to(change, manager)


def test_the_first_approver_is_never_the_second_even_as_a_manager(write_off, manager):
    change = large_proposal_approve_first(proposal=write_off, actor=manager)
    refused_to(change, manager)
    with pytest.raises(PermissionDenied):
        proposal_approve(proposal=write_off, actor=manager, first_approver=manager)


def test_a_case_put_on_hold_since_the_first_approval_makes_it_stale(write_off, supervisor, manager, case):
    change = large_proposal_approve_first(proposal=write_off, actor=supervisor)
    case_hold(
        case=case,
        actor=supervisor,
        reason_code=HoldReason.HARDSHIP,
        note="失业",
        until=TODAY + datetime.timedelta(days=20),
        today=TODAY,
    )
    stale_refused(change, manager)
    assert Proposal.objects.get(pk=write_off.pk).status == ProposalStatus.PENDING


def test_a_settlement_at_or_below_the_limit_needs_only_the_supervisor(case, agent, supervisor, settings):
    settings.SECOND_APPROVAL_ABOVE_FEN = 100_000
    settlement = proposal_submit(case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="1000.00", reason="和解")
    proposal_approve(proposal=settlement, actor=supervisor)
    assert Proposal.objects.get(pk=settlement.pk).status == ProposalStatus.APPROVED


def test_approving_above_the_limit_in_the_admin_sends_it_to_the_managers_queue(client, write_off, supervisor, manager):
    client.force_login(supervisor)
    page = reverse("admin:cases_proposal_decide", args=[write_off.pk])
    assert 'id="second-approval"' in client.get(page).content.decode()
    response = client.post(page, {"note": "已核实", "approve": "Approve"})
    change = ChangeProposal.objects.get()
    assert response["Location"] == reverse("admin:backoffice_changeproposal_change", args=[change.pk])
    assert Proposal.objects.get(pk=write_off.pk).status == ProposalStatus.PENDING
    client.force_login(manager)
    queue = client.get(reverse("admin:backoffice_changeproposal_changelist")).content.decode()
    assert f">#{change.pk}<" in queue
    client.post(reverse("admin:backoffice_changeproposal_decide", args=[change.pk, "approve"]), {"confirm": "yes"})
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED
    assert Proposal.objects.get(pk=write_off.pk).status == ProposalStatus.COMPLETED


def test_a_settlement_amount_changed_since_the_first_approval_must_be_approved_again(case, agent, supervisor, manager):
    settlement = proposal_submit(case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="2000.00", reason="和解")
    change = large_proposal_approve_first(proposal=settlement, actor=supervisor)
    # Any path that moves the amount after the supervisor saw it (here, straight in the table).
    Proposal.objects.filter(pk=settlement.pk).update(amount_fen=250_000)
    stale_refused(change, manager)
    assert Proposal.objects.get(pk=settlement.pk).status == ProposalStatus.PENDING


def test_a_payment_since_the_first_approval_makes_the_write_off_stale(write_off, supervisor, manager, case):
    change = large_proposal_approve_first(proposal=write_off, actor=supervisor)
    payment_post(
        credit_line=case.credit_line,
        external_reference="P-SINCE-1",
        amount="500.00",
        channel="alipay",
        received_at=datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC),
    )
    lines_refresh(line_ids=[case.credit_line_id], as_of=TODAY)  # the case's balance follows the payment
    stale_refused(change, manager)
    assert stage_of(case) == Stage.COLLECTION
