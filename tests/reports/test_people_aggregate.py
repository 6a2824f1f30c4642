"""The night's people rows: money, cases in hand, contacts and promises per holder, each worked out by hand here."""

import datetime

import pytest
import time_machine

from backoffice.reports.aggregate_people import people_write
from backoffice.reports.models import PeopleDay
from cases.choices import ContactChannel, ContactOutcome, ContactParty, ContactSource
from cases.contacts.services import contact_log
from cases.models import Case
from cases.promises.services import promise_record
from cases.workload.services import case_assign
from tests.factories import overdue_line
from tests.reports.people_portfolio import MARCH_1, MARCH_10, at, night, pay, rows

pytestmark = pytest.mark.django_db


def test_money_is_split_across_a_reassignment_and_a_placement_and_a_reversal_goes_to_whoever_got_the_payment(
    run_dunning, worked_case
):
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    a, b, team, agency = worked_case["a"].pk, worked_case["b"].pk, worked_case["team"].pk, worked_case["agency"].pk
    # A got ¥100 that bounced the same day: +10,000 and −10,000 fen. B got ¥50. The agency got ¥30 and
    # holds the case at the day's end, having taken it that day.
    assert rows(MARCH_10) == {
        (a, team, 0): {"collected_fen": 10_000, "reversed_fen": -10_000},
        (b, 0, 0): {"collected_fen": 5_000},
        (0, 0, agency): {"cases_in_hand": 1, "taken_in": 1, "collected_fen": 3_000},
    }


def test_a_rerun_of_the_day_writes_nothing_and_a_payment_recorded_late_counts_on_the_day_it_was_recorded(
    run_dunning, worked_case
):
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    before = sorted(PeopleDay.objects.values_list())
    march_11 = MARCH_10 + datetime.timedelta(days=1)
    # Received on 10 March at 20:00 (the agency's), recorded the next morning: 11 March's, never restating 10 March.
    pay(worked_case["line"], "P-LATE", "20.00", at(MARCH_10, 20), recorded=at(march_11, 9))
    assert people_write(day=MARCH_10) == 0
    assert sorted(PeopleDay.objects.values_list()) == before
    night(run_dunning, march_11 + datetime.timedelta(days=1))
    agency = worked_case["agency"].pk
    assert rows(march_11) == {(0, 0, agency): {"cases_in_hand": 1, "collected_fen": 2_000}}


def test_contacts_count_for_the_holder_with_right_party_contacts_and_the_time_to_the_first(run_dunning, worked_case):
    case = worked_case["case"]
    march_12 = MARCH_10 + datetime.timedelta(days=2)
    with time_machine.travel(at(march_12, 10), tick=False):
        contact_log(
            case=case,
            actor=None,
            channel=ContactChannel.CALL,
            outcome=ContactOutcome.NO_ANSWER,
            phone_number="13800138000",
            occurred_at=at(march_12, 9, 30),
            source=ContactSource.IMPORTED,
        )
        contact_log(
            case=case,
            actor=None,
            channel=ContactChannel.CALL,
            outcome=ContactOutcome.CONNECTED,
            party=ContactParty.CUSTOMER,
            phone_number="13800138000",
            identity_disclosed=True,
            occurred_at=at(march_12, 9, 45),
            source=ContactSource.IMPORTED,
        )
    night(run_dunning, march_12 + datetime.timedelta(days=1))
    row = PeopleDay.objects.get(day=march_12, agency_id=worked_case["agency"].pk)
    # The agency took the case on 10 March at 14:00; its first contact came 43 h 30 min later (12 March, 09:30).
    assert (row.contacts, row.right_party_contacts, row.first_contacts) == (2, 1, 1)
    assert row.first_contact_seconds == 43 * 3600 + 30 * 60
    assert (row.cases_in_hand, row.never_contacted, row.taken_in) == (1, 0, 0)
    assert (row.team_id, row.agent_id) == (0, 0)
    assert PeopleDay.objects.filter(day=march_12).count() == 1


def test_a_promise_counts_when_made_and_as_kept_on_its_date_when_paid_by_then(run_dunning, agent, supervisor):
    line = overdue_line(due=datetime.date(2026, 2, 20), principal_fen=100_000)
    night(run_dunning, MARCH_1)
    case = Case.objects.get(credit_line=line)
    with time_machine.travel(at(MARCH_10, 8), tick=False):
        case_assign(case=case, actor=supervisor, assignee=agent)
    march_12 = MARCH_10 + datetime.timedelta(days=2)
    with time_machine.travel(at(MARCH_10, 10), tick=False):
        promise_record(case=Case.objects.get(pk=case.pk), actor=agent, amount="100.00", due_date=march_12)
    pay(line, "P-1", "60.00", at(march_12, 9))
    pay(line, "P-2", "40.00", at(march_12, 18))
    for day in (MARCH_10, march_12):
        night(run_dunning, day + datetime.timedelta(days=1))
    made = PeopleDay.objects.get(day=MARCH_10)
    assert (made.agent_id, made.promises_made, made.promises_due, made.promises_kept) == (agent.pk, 1, 0, 0)
    # Taken that morning and never reached: the whole of the agent's hand is uncovered.
    assert (made.cases_in_hand, made.taken_in, made.never_contacted, made.taken_in_fen) == (1, 1, 1, 100_000)
    kept = PeopleDay.objects.get(day=march_12)
    assert (kept.promises_made, kept.promises_due, kept.promises_kept, kept.collected_fen) == (0, 1, 1, 10_000)
    assert (kept.cases_in_hand, kept.taken_in) == (1, 0)


def test_a_promise_paid_only_after_its_date_is_not_kept_on_its_date(run_dunning, agent, supervisor):
    line = overdue_line(due=datetime.date(2026, 2, 20), principal_fen=100_000)
    night(run_dunning, MARCH_1)
    case = Case.objects.get(credit_line=line)
    with time_machine.travel(at(MARCH_10, 8), tick=False):
        case_assign(case=case, actor=supervisor, assignee=agent)
        promise_record(case=Case.objects.get(pk=case.pk), actor=agent, amount="100.00", due_date=MARCH_10)
    pay(line, "P-1", "100.00", at(MARCH_10 + datetime.timedelta(days=1), 9))
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    row = PeopleDay.objects.get(day=MARCH_10)
    assert (row.promises_made, row.promises_due, row.promises_kept) == (1, 1, 0)
