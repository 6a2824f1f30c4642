"""What each role may see and do, and what a closing case takes with it (found in review; each was a real hole)."""

import datetime
import zoneinfo
from io import BytesIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.services import payment_post
from backoffice.kernel.roles import AGENCY, AGENT
from cases.agencies.services import case_place
from cases.casework.services import case_close
from cases.choices import AgencyStatus, ProposalKind, ProposalStatus, Stage
from cases.contacts.imports import contacts_import
from cases.contacts.services import contact_log
from cases.models import Agency, AgencyMember, Case, Contact, Placement, Promise, Proposal, RulePack
from cases.promises.services import promise_record
from cases.settlements.services import proposal_approve, proposal_submit, settlements_complete
from cases.workload.services import case_assign, case_claim_next
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 3, 1)


@pytest.fixture
def agency():
    today = timezone.localdate()
    return Agency.objects.create(
        name="华信商务咨询有限公司",
        status=AgencyStatus.APPROVED,
        contract_start=today - datetime.timedelta(days=30),
        contract_end=today + datetime.timedelta(days=30),
    )


def collector_of(agency, username="agency-c"):
    user = user_in(AGENCY, username)
    AgencyMember.objects.create(user=user, agency=agency)
    return user


def test_agency_users_get_no_ledger_promise_or_transition_lists(client, cases, agency, supervisor):
    case_place(case=cases[0], agency=agency, actor=supervisor)
    client.force_login(collector_of(agency))
    for name in (
        "accounts_customer",
        "accounts_creditline",
        "accounts_bill",
        "accounts_payment",
        "cases_promise",
        "cases_casetransition",
    ):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 403, name
    page = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert cases[0].number in page
    assert cases[1].number not in page
    assert "agent-t" not in page  # the lender's staff are not offered as a filter


def test_agents_see_only_their_cases_promises_and_no_kept_rates(client, cases, agent, supervisor):
    other = user_in(AGENT, "agent-o")
    case_assign(case=cases[0], actor=supervisor, assignee=agent)
    case_assign(case=cases[1], actor=supervisor, assignee=other)
    promise_record(case=cases[0], actor=agent, amount="10", due_date=timezone.localdate())
    promise_record(case=cases[1], actor=other, amount="20", due_date=timezone.localdate())
    client.force_login(agent)
    page = client.get(reverse("admin:cases_promise_changelist")).content.decode()
    assert cases[0].number in page
    assert cases[1].number not in page
    assert 'id="kept-rates"' not in page
    transitions = client.get(reverse("admin:cases_casetransition_changelist")).content.decode()
    assert cases[1].number not in transitions


def test_a_claim_ends_with_reassignment_and_never_outlives_its_time(cases, agent, supervisor):
    other = user_in(AGENT, "agent-o")
    claimed = case_claim_next(actor=agent)
    assert claimed in Case.objects.visible_to(agent)
    case_assign(case=claimed, actor=supervisor, assignee=other)
    assert claimed not in Case.objects.visible_to(agent)

    second = case_claim_next(actor=agent)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert second not in Case.objects.visible_to(agent)


def test_closing_a_case_ends_its_placement_and_cancels_its_proposals(cases, agency, supervisor, agent):
    case_place(case=cases[0], agency=agency, actor=supervisor)
    collector = collector_of(agency)
    proposal = proposal_submit(case=cases[0], actor=agent, kind="write_off", reason="Uncollectable")
    case_close(case=cases[0], actor=supervisor, reason="Sold to a debt buyer")
    placement = Placement.objects.get(case=cases[0])
    assert placement.recalled_at is not None
    assert "Closed" in placement.recall_reason
    assert Case.objects.get(pk=cases[0].pk).agency is None
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.CANCELLED
    assert not Case.objects.visible_to(collector).exists()
    with pytest.raises(ValidationError, match="closed"):
        promise_record(case=cases[0], actor=agent, amount="10", due_date=timezone.localdate())
    with pytest.raises(ValidationError, match="closed"):
        contact_log(case=cases[0], actor=agent, channel="sms", outcome="no_answer")
    assert not Promise.objects.exists()


def test_a_case_the_run_resolves_leaves_its_agency_and_a_same_day_rerun_changes_nothing(
    run_dunning, agency, supervisor
):
    line = overdue_line(due=DUE)
    run_dunning(TODAY)
    case = Case.objects.get(credit_line=line)
    case_place(case=case, agency=agency, actor=supervisor)
    paid_at = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(12)))
    payment_post(credit_line=line, external_reference="ALL", amount="1000.00", channel="alipay", received_at=paid_at)
    first = run_dunning(TODAY + datetime.timedelta(days=1))
    assert first.resolved == 1
    assert Placement.objects.get(case=case).recalled_at is not None
    again = run_dunning(TODAY + datetime.timedelta(days=1))
    assert (again.recalled, again.resolved) == (0, 0)


def test_a_placed_case_cannot_also_be_given_to_an_in_house_agent(cases, agency, supervisor, agent):
    case_place(case=cases[0], agency=agency, actor=supervisor)
    with pytest.raises(ValidationError, match="placed with an agency"):
        case_assign(case=cases[0], actor=supervisor, assignee=agent)
    assert Case.objects.get(pk=cases[0].pk).assignee is None


def test_a_suspended_agency_loses_sight_of_its_cases_at_once(cases, agency, supervisor):
    case_place(case=cases[0], agency=agency, actor=supervisor)
    collector = collector_of(agency)
    Agency.objects.filter(pk=agency.pk).update(status=AgencyStatus.SUSPENDED)
    assert not Case.objects.visible_to(collector).exists()
    assert not Case.objects.for_agent(collector).exists()


def test_a_settlement_paid_between_proposal_and_approval_completes(cases, agent, supervisor):
    case = cases[0]
    proposal = proposal_submit(case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="600", reason="agreed")
    payment_post(
        credit_line=case.credit_line,
        external_reference="S1",
        amount="600",
        channel="alipay",
        received_at=timezone.now(),
    )
    proposal_approve(proposal=proposal, actor=supervisor)
    assert settlements_complete() == 1
    assert Case.objects.get(pk=case.pk).stage == Stage.SETTLED


def test_an_agency_import_cannot_put_its_calls_on_the_lenders_agents(cases, agency, supervisor, agent):

    case_place(case=cases[0], agency=agency, actor=supervisor)
    collector = collector_of(agency)
    header = "case,occurred_at,channel,outcome,agent,identity_disclosed\n"
    row = f"{cases[0].number},2026-03-02T10:00:00+08:00,call,connected,{agent.username},yes\n"
    with pytest.raises(ValidationError) as refused:
        contacts_import(file=BytesIO((header + row).encode()), actor=collector)
    assert agent.username in str(refused.value)
    own = f"{cases[0].number},2026-03-02T10:00:00+08:00,call,connected,{collector.username},yes\n"
    contacts_import(file=BytesIO((header + own).encode()), actor=collector)
    assert Contact.objects.get().imported_by == collector


def test_an_imported_contact_from_before_a_follow_up_does_not_complete_it(cases):
    case = cases[0]
    Case.objects.filter(pk=case.pk).update(follow_up_on=timezone.localdate())
    contact_log(
        case=case,
        actor=None,
        channel="sms",
        outcome="no_answer",
        source="imported",
        occurred_at=timezone.now() - datetime.timedelta(days=20),
    )
    assert Case.objects.get(pk=case.pk).follow_up_on == timezone.localdate()


URUMQI = zoneinfo.ZoneInfo("Asia/Urumqi")


def test_a_third_party_is_not_called_outside_the_customers_hours(cases, agent):
    case = cases[0]
    for hour in (9, 10, 11):
        contact_log(
            case=case,
            actor=agent,
            channel="call",
            outcome="no_answer",
            occurred_at=datetime.datetime(2026, 3, 2, hour, tzinfo=URUMQI),
        )
    with pytest.raises(ValidationError) as refused:
        contact_log(
            case=case,
            actor=agent,
            channel="call",
            party="third_party",
            outcome="connected",
            identity_disclosed=True,
            occurred_at=datetime.datetime(2026, 3, 2, 23, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
        )
    assert [e.code for e in refused.value.error_list] == ["CONTACT_OUTSIDE_WINDOW"]


def test_usa_an_inbound_conversation_starts_the_quiet_week_too(cases, agent):
    case = cases[0]
    policy = case.credit_line.product.policy
    policy.rule_pack = RulePack.objects.get(code="us-regf")
    policy.save()
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    contact_log(
        case=case,
        actor=agent,
        channel="call",
        direction="inbound",
        outcome="connected",
        identity_disclosed=True,
        occurred_at=datetime.datetime(2026, 3, 2, 10, tzinfo=shanghai),
    )
    with pytest.raises(ValidationError) as refused:
        contact_log(
            case=case,
            actor=agent,
            channel="call",
            outcome="no_answer",
            occurred_at=datetime.datetime(2026, 3, 4, 10, tzinfo=shanghai),
        )
    assert [e.code for e in refused.value.error_list] == ["CALL_AFTER_CONVERSATION"]
