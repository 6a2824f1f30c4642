"""The message list for supervisors, what agents and agencies see of it, and the case's messages on its timeline."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.validators import mask_mobile
from backoffice.kernel.roles import AGENCY, AGENT
from cases.agencies.services import case_place
from cases.choices import AgencyStatus
from cases.models import Agency, AgencyMember, Case, Message
from cases.outreach.services import messages_send_due
from tests.cases.outreach.test_plan_and_send import first_day_overdue
from tests.factories import user_in

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 3, 1)
LIST = reverse("admin:cases_message_changelist")


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(DAY, datetime.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def night_and_day(run_dunning):
    """Run the night for DAY, then send what is due by 21:50 Shanghai time."""

    def run():
        with time_machine.travel(at(0, 10), tick=False):
            run_dunning(DAY)
        with time_machine.travel(at(21, 50), tick=False):
            messages_send_due()

    return run


@pytest.fixture
def two_agents_cases(night_and_day, agent):
    other = user_in(AGENT, "agent-other")
    mine, theirs = first_day_overdue(), first_day_overdue(consents_to_sms=False)
    night_and_day()
    Case.objects.filter(credit_line=mine).update(assignee=agent)
    Case.objects.filter(credit_line=theirs).update(assignee=other)
    return Case.objects.get(credit_line=mine), Case.objects.get(credit_line=theirs)


def listed_case_ids(response) -> set[int]:
    return {row.case_id for row in response.context["cl"].result_list}


def test_a_supervisor_sees_every_message_and_the_days_tally_by_rule(client, supervisor, two_agents_cases):
    client.force_login(supervisor)
    response = client.get(LIST, {"planned_for": DAY.isoformat()})
    mine, theirs = two_agents_cases
    assert listed_case_ids(response) == {mine.pk, theirs.pk}
    summary = response.context["summary"]
    assert (summary.sent, summary.stopped) == (3, {"CONSENT_WITHDRAWN": 1})
    page = response.content.decode()
    assert 'id="message-summary"' in page
    assert "CONSENT_WITHDRAWN: The customer withdrew consent to this medium." in page


def test_an_agent_sees_only_the_messages_of_their_cases_and_no_tally(client, agent, two_agents_cases):
    mine, _theirs = two_agents_cases
    client.force_login(agent)
    response = client.get(LIST)
    assert listed_case_ids(response) == {mine.pk}
    assert "summary" not in response.context
    page = response.content.decode()
    assert mine.credit_line.customer.mobile not in page
    assert mask_mobile(mine.credit_line.customer.mobile) in page


def test_an_agent_cannot_reach_another_agents_messages_by_tampering_with_the_address(client, agent, two_agents_cases):
    _mine, theirs = two_agents_cases
    client.force_login(agent)
    assert listed_case_ids(client.get(LIST, {"q": theirs.number})) == set()
    assert listed_case_ids(client.get(LIST, {"q": theirs.credit_line.number})) == set()
    assert client.get(LIST, {"case__id__exact": theirs.pk}).status_code == 400
    assert client.get(LIST, {"case": theirs.pk}).status_code == 400
    message = Message.objects.filter(case=theirs).first()
    assert client.get(reverse("admin:cases_message_change", args=[message.pk])).status_code != 200


def test_an_agency_sees_only_the_messages_of_the_cases_placed_with_it(client, supervisor, two_agents_cases):
    _mine, theirs = two_agents_cases
    agency = Agency.objects.create(
        name="华信",
        status=AgencyStatus.APPROVED,
        contract_start=DAY - datetime.timedelta(days=30),
        contract_end=DAY + datetime.timedelta(days=300),
        commission_rate="15.00",
    )
    member = user_in(AGENCY, "agency-t")
    AgencyMember.objects.create(user=member, agency=agency)
    with time_machine.travel(at(10), tick=False):
        case_place(case=theirs, agency=agency, actor=supervisor, today=DAY)
    client.force_login(member)
    with time_machine.travel(at(11), tick=False):
        assert listed_case_ids(client.get(LIST)) == {theirs.pk}


def test_the_list_searches_by_case_and_contract_number(client, supervisor, two_agents_cases):
    mine, theirs = two_agents_cases
    client.force_login(supervisor)
    assert listed_case_ids(client.get(LIST, {"q": mine.number})) == {mine.pk}
    assert listed_case_ids(client.get(LIST, {"q": theirs.credit_line.number})) == {theirs.pk}


def test_the_list_filters_by_stop_rule_and_status(client, supervisor, two_agents_cases):
    _mine, theirs = two_agents_cases
    client.force_login(supervisor)
    stopped = client.get(LIST, {"stop_rule": "CONSENT_WITHDRAWN"}).context["cl"].result_list
    assert [(m.case_id, m.channel) for m in stopped] == [(theirs.pk, "sms")]
    assert len(client.get(LIST, {"status__exact": "sent"}).context["cl"].result_list) == 3


def test_the_list_takes_the_same_queries_whatever_the_page_size(
    client, supervisor, night_and_day, django_assert_max_num_queries
):
    for _i in range(12):
        first_day_overdue()
    night_and_day()
    client.force_login(supervisor)
    message_admin = admin.site._registry[Message]
    counts = []
    for per_page in (2, 20):
        message_admin.list_per_page = per_page
        try:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(LIST, {"planned_for": DAY.isoformat()})
        finally:
            message_admin.list_per_page = 50
        assert len(response.context["cl"].result_list) == per_page
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(12):
        client.get(LIST)
    assert not any("COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in queries.captured_queries)


def test_the_case_page_shows_a_stopped_message_with_its_rule_and_the_sent_ones(
    client, agent, two_agents_cases, django_assert_max_num_queries
):
    _mine, theirs = two_agents_cases
    theirs.assignee = agent
    theirs.save(update_fields=["assignee"])
    client.force_login(agent)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("admin:cases_case_change", args=[theirs.pk])).content.decode()
    timeline = page[page.index('id="case-timeline"') :]
    assert "SMS · overdue · Stopped by a rule" in timeline
    assert "CONSENT_WITHDRAWN: The customer withdrew consent to this medium." in timeline
    assert "App push · overdue · Sent" in timeline


def test_the_messages_add_one_query_to_the_case_page(client, agent, two_agents_cases):
    mine, _theirs = two_agents_cases
    client.force_login(agent)
    url = reverse("admin:cases_case_change", args=[mine.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    message_queries = [q for q in queries.captured_queries if Message._meta.db_table in q["sql"]]
    assert len(message_queries) == 1
