"""Agencies: placement only with an approved agency under contract, recall, and who sees what."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.signals import post_init
from django.urls import reverse
from django.utils import timezone

from backoffice.kernel.roles import AGENCY, AGENT
from cases.agencies.services import case_place, case_recall, placements_recall_ended
from cases.choices import AgencyStatus
from cases.models import Agency, AgencyMember, Case, CaseAssignment, ContactRefusal, Placement
from cases.workload.services import case_assign, case_claim_next
from tests.factories import user_in

pytestmark = pytest.mark.django_db


def make_agency(name="华信催收", status=AgencyStatus.APPROVED, start=None, end=None):
    today = timezone.localdate()
    return Agency.objects.create(
        name=name,
        status=status,
        contract_start=start or today - datetime.timedelta(days=30),
        contract_end=end or today + datetime.timedelta(days=30),
        commission_rate="12.50",
    )


def agency_user(agency, username):
    user = user_in(AGENCY, username)
    AgencyMember.objects.create(user=user, agency=agency)
    return user


def test_placement_is_refused_for_an_agency_not_approved_or_out_of_contract(cases, supervisor):
    pending = make_agency("待审核", status=AgencyStatus.PENDING)
    expired = make_agency("过期", end=timezone.localdate() - datetime.timedelta(days=1))
    for agency in (pending, expired):
        with pytest.raises(ValidationError) as refused:
            case_place(case=cases[0], agency=agency, actor=supervisor)
        assert "AGENCY_NOT_APPROVED" in str(refused.value)
        assert agency.name in str(refused.value)
    assert not Placement.objects.exists()
    cases[0].refresh_from_db()
    assert cases[0].agency is None
    # Each refusal stays on record for the compliance report, although nothing was placed.
    assert (
        list(ContactRefusal.objects.values_list("case_id", "channel", "rule", "agent"))
        == [(cases[0].pk, "", "AGENCY_NOT_APPROVED", supervisor.pk)] * 2
    )


def test_on_the_contracts_last_day_placement_is_allowed_and_the_day_after_refused(cases, supervisor):
    today = timezone.localdate()
    agency = make_agency(end=today)
    case_place(case=cases[0], agency=agency, actor=supervisor, today=today)
    with pytest.raises(ValidationError, match="AGENCY_NOT_APPROVED"):
        case_place(case=cases[1], agency=agency, actor=supervisor, today=today + datetime.timedelta(days=1))


def test_agency_users_see_only_their_agencys_cases_and_agents_let_go(cases, supervisor, agent):
    case_assign(case=cases[0], actor=supervisor, assignee=agent)
    ours, theirs = make_agency("一号"), make_agency("二号")
    case_place(case=cases[0], agency=ours, actor=supervisor)
    case_place(case=cases[1], agency=theirs, actor=supervisor)
    collector = agency_user(ours, "agency-1")

    assert list(Case.objects.visible_to(collector)) == [cases[0]]
    assert list(Case.objects.for_agent(collector)) == [cases[0]]
    assert set(Case.objects.visible_to(supervisor)) == set(cases)
    # The in-house agent let go of the placed case, with an audit row.
    assert not Case.objects.visible_to(agent).exists()
    assert CaseAssignment.objects.filter(case=cases[0], assigned_from=agent, assigned_to=None).exists()
    # Work next hands in-house agents only unplaced cases, and agency users only their agency's.
    assert case_claim_next(actor=agent) == cases[2]
    assert case_claim_next(actor=collector) == cases[0]


def test_agency_users_cannot_open_another_agencys_case_page(cases, supervisor, client):
    ours, theirs = make_agency("一号"), make_agency("二号")
    case_place(case=cases[0], agency=ours, actor=supervisor)
    case_place(case=cases[1], agency=theirs, actor=supervisor)
    client.force_login(agency_user(ours, "agency-1"))
    assert client.get(reverse("admin:cases_case_change", args=[cases[0].pk])).status_code == 200
    assert client.get(reverse("admin:cases_case_change", args=[cases[1].pk])).status_code in (302, 404)
    queue = client.get(reverse("admin:cases_mycase_changelist")).content.decode()
    assert cases[0].number in queue
    assert cases[1].number not in queue


def test_recall_returns_the_case_and_contracts_that_end_recall_their_cases(cases, supervisor):
    agency = make_agency(end=timezone.localdate() + datetime.timedelta(days=2))
    case_place(case=cases[0], agency=agency, actor=supervisor)
    case_place(case=cases[1], agency=agency, actor=supervisor)
    case_recall(case=cases[0], actor=supervisor, reason="Complaint about the agency")
    with pytest.raises(ValidationError, match="not placed"):
        case_recall(case=cases[0], actor=supervisor, reason="again")

    assert placements_recall_ended(as_of=timezone.localdate()) == 0
    assert placements_recall_ended(as_of=timezone.localdate() + datetime.timedelta(days=3)) == 1
    recalled = Placement.objects.get(case=cases[1])
    assert recalled.recalled_by is None
    assert "no valid contract" in recalled.recall_reason
    assert not Case.objects.filter(agency__isnull=False).exists()
    # A case can be placed again after it came back.
    case_place(case=cases[0], agency=agency, actor=supervisor)


def test_suspending_an_agency_recalls_its_cases_on_the_next_run(cases, supervisor):
    agency = make_agency()
    case_place(case=cases[0], agency=agency, actor=supervisor)
    Agency.objects.filter(pk=agency.pk).update(status=AgencyStatus.SUSPENDED)
    assert placements_recall_ended(as_of=timezone.localdate()) == 1
    assert "Suspended" in Placement.objects.get().recall_reason


def test_agents_cannot_place_cases(cases, agent):
    with pytest.raises(PermissionDenied, match="not allowed"):
        case_place(case=cases[0], agency=make_agency(), actor=agent)


def test_bulk_placement_lists_every_case_and_places_all_or_none(cases, supervisor, client):
    agency = make_agency()
    case_place(case=cases[2], agency=agency, actor=supervisor)
    client.force_login(supervisor)
    url = reverse("admin:cases_case_changelist")
    selected = {"action": "place_selected", ACTION_CHECKBOX_NAME: [c.pk for c in cases]}
    page = client.post(url, selected).content.decode()
    assert all(c.number in page for c in cases)
    assert "Place these cases" in page

    refused = client.post(url, {**selected, "confirm": "yes", "agency": agency.pk}).content.decode()
    assert "already placed" in refused
    assert cases[2].number in refused
    assert Placement.objects.count() == 1

    two = {"action": "place_selected", ACTION_CHECKBOX_NAME: [cases[0].pk, cases[1].pk]}
    response = client.post(url, {**two, "confirm": "yes", "agency": agency.pk})
    assert response.status_code == 302
    assert Case.objects.filter(agency=agency).count() == 3


def test_an_agent_cannot_see_the_agency_or_placement_screens(agent, client):
    client.force_login(user_in(AGENT, "agent-x"))
    assert client.get(reverse("admin:cases_agency_changelist")).status_code == 403
    assert client.get(reverse("admin:cases_placement_changelist")).status_code == 403


def test_the_rule_in_words_and_the_rule_as_a_query_agree_on_every_status_and_contract_edge():
    today = timezone.localdate()
    agencies = [
        make_agency(f"{status}-{index}", status=status, start=today, end=today + datetime.timedelta(days=index))
        for status in AgencyStatus.values
        for index in (0, 2)
    ]
    for offset in (-1, 0, 1, 2, 3):
        day = today + datetime.timedelta(days=offset)
        holding = set(Agency.objects.filter(Agency.holds_cases_on(day)).values_list("pk", flat=True))
        assert holding == {agency.pk for agency in agencies if not agency.refusal_on(day)}, day
    # Not vacuous: on the first contract day every approved agency holds cases, and no other does.
    first_day = Agency.objects.filter(Agency.holds_cases_on(today))
    assert set(first_day.values_list("status", flat=True)) == {AgencyStatus.APPROVED}
    assert first_day.count() == 2


def test_the_nightly_recall_reads_only_the_placements_that_must_end(cases, supervisor, django_assert_num_queries):
    agency = make_agency(end=timezone.localdate() + datetime.timedelta(days=1))
    for case in cases:
        case_place(case=case, agency=agency, actor=supervisor)
    loaded = []

    def count(sender, instance, **kwargs):
        loaded.append(instance)

    post_init.connect(count, sender=Placement)
    try:
        with django_assert_num_queries(1):
            assert placements_recall_ended(as_of=timezone.localdate()) == 0
        assert loaded == []  # the placements that go on are not even read
        assert placements_recall_ended(as_of=timezone.localdate() + datetime.timedelta(days=2)) == 3
    finally:
        post_init.disconnect(count, sender=Placement)
