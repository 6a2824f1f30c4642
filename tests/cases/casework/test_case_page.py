"""The case page puts everything on one screen; the queue puts follow-ups due today first."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import payment_post
from cases.casework.selectors import case_bills
from cases.choices import ProposalKind
from cases.contacts.services import contact_log
from cases.models import Case
from cases.promises.services import promise_record
from cases.settlements.services import proposal_submit
from cases.workload.priority import refresh_queue_ranks
from cases.workload.services import case_assign
from tests.factories import BillFactory, overdue_line

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)


@pytest.fixture
def worked_case(run_dunning, agent, supervisor):
    line = overdue_line(due=DUE, principal_fen=250_000)
    run_dunning(datetime.date(2026, 3, 1))  # reminder → collection: two transitions
    case = Case.objects.with_customer().get(credit_line=line)
    case_assign(case=case, actor=supervisor, assignee=agent)
    payment_post(
        credit_line=line,
        external_reference="PAY-1",
        amount="500.00",
        channel="alipay",
        received_at=timezone.now() - datetime.timedelta(hours=3),
    )
    contact_log(
        case=case,
        actor=agent,
        channel="sms",
        outcome="no_answer",
        notes="提醒还款",
        occurred_at=timezone.now() - datetime.timedelta(hours=2),
        source="imported",
    )
    promise_record(case=case, actor=agent, amount="1000", due_date=timezone.localdate() + datetime.timedelta(days=3))
    proposal_submit(case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="1500", reason="一次性结清")
    return case


def test_the_case_page_shows_bills_with_the_itemised_balance_and_one_timeline_newest_first(
    client, worked_case, agent, django_assert_max_num_queries
):
    client.force_login(agent)
    url = reverse("admin:cases_case_change", args=[worked_case.pk])
    with django_assert_max_num_queries(40):
        page = client.get(url).content.decode()
    assert 'id="case-bills"' in page
    assert "¥2,000.00" in page  # still owed after the ¥500 payment
    timeline = page[page.index('id="case-timeline"') :]
    order = [
        timeline.index("一次性结清"),  # the settlement proposal: newest
        timeline.index("Promise to pay ¥1,000.00"),
        timeline.index("提醒还款"),  # the SMS, two hours ago
        timeline.index("Payment of ¥500.00"),  # three hours ago
    ]
    assert order == sorted(order)
    assert "Reminder → Agent collection" in timeline
    assert "Assigned to agent-t" in timeline
    assert "138****" in page  # the mobile, masked for an agent
    assert 'id="propose"' in page


def test_the_balance_separates_what_is_overdue_from_bills_not_yet_due(client, worked_case, agent):
    today = timezone.localdate()
    BillFactory(credit_line=worked_case.credit_line, due_date=today, principal_due_fen=80_000, fees_due_fen=0)
    bills, owed = case_bills(worked_case, today=today)
    # The ¥2,500 bill due on 10 January, less the ¥500 paid; today's bill is not overdue yet.
    assert owed["overdue"] == {"principal": 200_000, "interest": 0, "fees": 0, "total": 200_000}
    assert owed["upcoming"] == {"principal": 80_000, "interest": 2_000, "fees": 0, "total": 82_000}
    assert [bill.due_date for bill in bills] == [today, DUE]
    client.force_login(agent)
    page = client.get(reverse("admin:cases_case_change", args=[worked_case.pk])).content.decode()
    overdue_row = page[page.index('id="owed-overdue"') : page.index('id="owed-upcoming"')]
    assert "Overdue now" in overdue_row
    assert "¥2,000.00" in overdue_row
    assert "¥820.00" not in overdue_row
    upcoming_row = page[page.index('id="owed-upcoming"') :]
    assert "Due today or later" in upcoming_row
    assert "¥820.00" in upcoming_row


def test_with_nothing_still_to_fall_due_the_balance_shows_only_the_overdue_row(client, worked_case, agent):
    client.force_login(agent)
    page = client.get(reverse("admin:cases_case_change", args=[worked_case.pk])).content.decode()
    assert 'id="owed-overdue"' in page
    assert 'id="owed-upcoming"' not in page


def test_the_case_page_query_count_does_not_grow_with_the_history(client, worked_case, agent, supervisor):

    client.force_login(agent)
    url = reverse("admin:cases_case_change", args=[worked_case.pk])
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for hour in range(10):
        contact_log(
            case=worked_case,
            actor=None,
            channel="sms",
            outcome="no_answer",
            occurred_at=timezone.now() - datetime.timedelta(days=2, hours=hour),
            source="imported",
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)


def test_follow_ups_due_today_come_first_in_the_queue(client, run_dunning, agent, supervisor):
    lines = [overdue_line(due=DUE - datetime.timedelta(days=20 * i), principal_fen=100_000 * (i + 1)) for i in range(3)]
    run_dunning(datetime.date(2026, 2, 1))
    cases = [Case.objects.get(credit_line=line) for line in lines]
    for case in cases:
        case_assign(case=case, actor=supervisor, assignee=agent)
    lowest = cases[0]  # smallest balance and DPD: last by priority
    contact_log(
        case=lowest,
        actor=None,
        channel="call",
        outcome="connected",
        identity_disclosed=True,
        source="imported",
        follow_up_on=timezone.localdate(),
    )
    Case.objects.filter(pk=cases[2].pk).update(follow_up_on=timezone.localdate() + datetime.timedelta(days=2))
    refresh_queue_ranks(case_ids=[cases[2].pk])

    client.force_login(agent)
    page = client.get(reverse("admin:cases_mycase_changelist")).content.decode()
    positions = [page.index(case.number) for case in cases]
    # The due follow-up first although its priority is lowest; then by priority (a future follow-up does not count).
    assert positions[0] < positions[2] < positions[1]
    assert "follow-up-due" in page


def test_the_queue_filters_by_promise_status(client, run_dunning, agent, supervisor):
    lines = [overdue_line(due=DUE) for _ in range(2)]
    run_dunning(datetime.date(2026, 2, 1))
    promised, silent = (Case.objects.get(credit_line=line) for line in lines)
    for case in (promised, silent):
        case_assign(case=case, actor=supervisor, assignee=agent)
    promise_record(case=promised, actor=agent, amount="100", due_date=timezone.localdate())
    client.force_login(agent)
    url = reverse("admin:cases_mycase_changelist")
    pending = client.get(url + "?promise=pending").content.decode()
    none = client.get(url + "?promise=none").content.decode()
    assert promised.number in pending
    assert silent.number not in pending
    assert silent.number in none
    assert promised.number not in none
