"""A supervisor in a real headless Chromium: reassigns, places with an agency, approves a write-off."""

import datetime

import pytest
from django.utils import timezone

from backoffice.kernel.roles import AGENT, SUPERVISOR
from cases.choices import AgencyStatus, ProposalKind, Stage
from cases.models import Agency, Case
from cases.settlements.services import proposal_submit
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portfolio(shipped_data, run_dunning):
    agent, other = user_in(AGENT, "agent-a"), user_in(AGENT, "agent-b")
    user_in(SUPERVISOR, "supervisor-e2e")
    lines = [overdue_line(due=datetime.date(2026, 1, 10) - datetime.timedelta(days=i)) for i in range(3)]
    run_dunning(datetime.date(2026, 3, 1))
    cases = [Case.objects.with_customer().get(credit_line=line) for line in lines]
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(assignee=agent)
    today = timezone.localdate()
    agency = Agency.objects.create(
        name="华信商务咨询有限公司",
        status=AgencyStatus.APPROVED,
        contract_start=today - datetime.timedelta(days=10),
        contract_end=today + datetime.timedelta(days=100),
        commission_rate="15.00",
    )
    proposal = proposal_submit(case=cases[2], actor=agent, kind=ProposalKind.WRITE_OFF, reason="客户已身故")
    return {"cases": cases, "other": other, "agency": agency, "proposal": proposal}


def choose_action(page, case, action):
    page.check(f"input[name=_selected_action][value='{case.pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_a_supervisor_reassigns_places_with_an_agency_and_approves_a_write_off(
    page, live_server, portfolio, screenshot
):
    first, second, third = portfolio["cases"]
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-e2e")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")

    page.goto(f"{live_server.url}/admin/cases/case/")
    choose_action(page, first, "assign_selected")
    page.wait_for_selector("#bulk-list")
    page.select_option("select[name=assignee]", label="agent-b")
    page.click("input[type=submit].default")
    page.wait_for_selector(".messagelist")
    assert Case.objects.get(pk=first.pk).assignee == portfolio["other"]

    choose_action(page, second, "place_selected")
    page.wait_for_selector("#bulk-list")
    screenshot("supervisor-place-confirmation")
    page.select_option("select[name=agency]", label="华信商务咨询有限公司")
    page.click("input[type=submit].default")
    page.wait_for_selector(".messagelist")
    assert Case.objects.get(pk=second.pk).agency == portfolio["agency"]

    page.goto(f"{live_server.url}/admin/cases/proposal/")
    page.click(f"a[href$='/{portfolio['proposal'].pk}/decide/']")
    page.wait_for_selector("#proposal-summary")
    screenshot("supervisor-write-off-decision")
    page.fill("textarea[name=note]", "死亡证明已核实")
    page.click("input[name=approve]")
    page.wait_for_selector(".messagelist")
    assert Case.objects.get(pk=third.pk).stage == Stage.WRITTEN_OFF

    page.goto(f"{live_server.url}/admin/cases/case/{third.pk}/change/")
    page.wait_for_selector("#case-timeline")
    screenshot("supervisor-case-page-after-write-off")
    timeline = page.inner_text("#case-timeline")
    assert "Write-off" in timeline
    assert "Written off" in timeline
