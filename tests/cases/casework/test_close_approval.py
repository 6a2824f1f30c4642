"""Closing a case (deceased, fraud, sold) waits for a second supervisor; one supervisor alone no longer does it."""

import datetime

import pytest
from django.urls import reverse

from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.roles import AGENT, SUPERVISOR
from cases.casework.approvals import case_close_propose
from cases.casework.services import case_hold
from cases.choices import HoldReason, Stage
from cases.models import Case, CaseTransition
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def second(db):
    return user_in(SUPERVISOR, "supervisor-second")


def stage_of(case: Case) -> str:
    return Case.objects.get(pk=case.pk).stage


def test_closing_waits_until_a_second_supervisor_approves_and_the_transition_names_the_approver(
    cases, supervisor, second
):
    case = cases[0]
    proposal = case_close_propose(case=case, actor=supervisor, reason="客户身故，已核实")
    assert stage_of(case) == Stage.COLLECTION
    refused_to(proposal, supervisor, superuser(), user_in(AGENT))
    approved = approved_by(proposal, second)
    assert stage_of(case) == Stage.CLOSED
    transition = CaseTransition.objects.filter(case=case).latest("created_at")
    assert (transition.to_stage, transition.actor, transition.reason) == (Stage.CLOSED, second, "客户身故，已核实")
    assert (approved.maker, approved.checker) == (supervisor, second)
    assert approved.diff == {"stage": [Stage.COLLECTION, Stage.CLOSED], "close_reason": [None, "客户身故，已核实"]}


def test_a_case_put_on_hold_since_the_proposal_is_refused_as_stale(cases, supervisor, second, agent):
    case = cases[1]
    proposal = case_close_propose(case=case, actor=supervisor, reason="欺诈")
    case_hold(
        case=case,
        actor=supervisor,
        reason_code=HoldReason.DISPUTE,
        note="客户称非本人借款",
        until=datetime.date(2026, 3, 20),
        today=datetime.date(2026, 3, 1),
    )
    stale_refused(proposal, second)
    assert stage_of(case) == Stage.ON_HOLD


def test_the_close_button_on_the_case_page_proposes_the_closing(client, cases, supervisor, second):
    case = cases[2]
    client.force_login(supervisor)
    url = reverse("admin:cases_case_move", args=[case.pk, "close"])
    response = client.post(url, {"reason": "债权已出售"})
    assert response.status_code == 302
    proposal = ChangeProposal.objects.get()
    assert (proposal.kind, proposal.target_id, proposal.maker) == ("case_close", case.pk, supervisor)
    assert stage_of(case) == Stage.COLLECTION
    client.force_login(second)
    decide = reverse("admin:backoffice_changeproposal_decide", args=[proposal.pk, "approve"])
    page = client.get(reverse("admin:backoffice_changeproposal_change", args=[proposal.pk])).content.decode()
    assert decide in page
    assert str(Stage.CLOSED.label) in page or "已结案" in page
    client.post(decide, {"confirm": "yes"})
    assert stage_of(case) == Stage.CLOSED


def test_the_case_page_shows_a_closing_that_waits_and_stops_showing_it_once_decided(
    cases, supervisor, second, agent, client
):
    case = cases[2]
    case.assignee = agent
    case.save(update_fields=["assignee"])
    proposal = case_close_propose(case=case, actor=supervisor, reason="债权已转让")
    url = reverse("admin:cases_case_change", args=[case.pk])
    client.force_login(second)
    page = client.get(url).content.decode()
    assert 'id="closing-waiting"' in page
    assert "债权已转让" in page
    assert supervisor.username in page
    assert reverse("admin:backoffice_changeproposal_change", args=[proposal.pk]) in page
    client.force_login(agent)  # the agent sees it too, without the link to the queue they may not open
    page = client.get(url).content.decode()
    assert "债权已转让" in page
    assert reverse("admin:backoffice_changeproposal_change", args=[proposal.pk]) not in page
    approved_by(proposal, second)
    client.force_login(second)
    assert 'id="closing-waiting"' not in client.get(url).content.decode()
