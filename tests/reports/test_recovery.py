"""Recovery and cure rates of stage-entry cohorts on a hand-made portfolio, each figure worked out by hand.

Standard policy (reminder from DPD 1, collection from 31). Bills fall due on 1 March 2026; the nights run from
2 to 9 March, each writing the day before it. Lines:

- A, 1,000 yuan: pays in full on 3 March; the run of 4 March resolves it: a cure by payment.
- B, 600 yuan: pays 200 on 3 March, reversed on 5 March: it collected nothing, and has no collection.
- C, 500 yuan: put on hold on 4 March, settled from the hold on 6 March.
- D, 400 yuan: pays 100 on 3 March; on 4 March its bill is amended down to 100; the run of 5 March resolves
  it: re-aged, not a cure by payment.
- E, 300 yuan: put on hold on 4 March and still on hold.
- F, 200 yuan due 20 January: DPD 41 on 2 March, so it opens straight in collection (it enters reminder and
  collection on 2 March, the reminder stay ending as escalated); pays 50 on 4 March, in collection.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import translation

from accounts.models import Bill
from accounts.services import bill_upsert, payment_post, payment_reverse
from backoffice.reports.aggregate_recovery import stage_entries_write, stage_exits_write
from backoffice.reports.models_recovery import RecoveryDay, StageEntry, StageExit
from backoffice.reports.tables import Linked, Money, Share
from backoffice.sameday import lines_refresh
from cases.casework.services import case_close, case_escalate, case_hold, case_settle
from cases.models import Case
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
MARCH = [datetime.date(2026, 3, day) for day in range(1, 11)]


@pytest.fixture(autouse=True)
def _in_english():
    """Read the tables' labels in English, whatever language an earlier request left active."""
    with translation.override("en"):
        yield


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def night(run_dunning, day: int):
    with time_machine.travel(at(day, 0).replace(minute=10), tick=False):
        return run_dunning(MARCH[day - 1])


def pay(line, reference: str, yuan: str, day: int):
    with time_machine.travel(at(day, 10), tick=False):
        return payment_post(
            credit_line=line, external_reference=reference, amount=yuan, channel="alipay", received_at=at(day, 10)
        )


@pytest.fixture
def portfolio(run_dunning, supervisor):
    due = MARCH[0]
    lines = {
        "A": overdue_line(due=due, principal_fen=100_000),
        "B": overdue_line(due=due, principal_fen=60_000),
        "C": overdue_line(due=due, principal_fen=50_000),
        "D": overdue_line(due=due, principal_fen=40_000),
        "E": overdue_line(due=due, principal_fen=30_000),
        "F": overdue_line(due=datetime.date(2026, 1, 20), principal_fen=20_000),
    }
    # Each night runs at 00:10; what people and customers do on a day comes after its night.
    night(run_dunning, 2)
    night(run_dunning, 3)
    pay(lines["A"], "A-1", "1000.00", 3)
    b_payment = pay(lines["B"], "B-1", "200.00", 3)
    pay(lines["D"], "D-1", "100.00", 3)
    night(run_dunning, 4)
    with time_machine.travel(at(4), tick=False):
        until = MARCH[9] + datetime.timedelta(days=10)
        for name in ("C", "E"):
            case = Case.objects.open().get(credit_line=lines[name])
            case_hold(case=case, actor=supervisor, reason_code="dispute", note="有争议", until=until, today=MARCH[3])
        bill = Bill.objects.get(credit_line=lines["D"])
        bill_upsert(credit_line=lines["D"], due_date=bill.due_date, amounts={"principal": "100.00"}, reason="减免")
    pay(lines["F"], "F-1", "50.00", 4)
    night(run_dunning, 5)
    with time_machine.travel(at(5), tick=False):
        payment_reverse(payment=b_payment, external_reference="B-1-R", reason="bounced", reversed_at=at(5), actor=None)
    night(run_dunning, 6)
    with time_machine.travel(at(6), tick=False):
        case_settle(case=Case.objects.get(credit_line=lines["C"]), actor=supervisor, reason="一次性结清")
    for day in (7, 8, 9):
        night(run_dunning, day)
    return lines


def test_each_case_enters_its_stage_with_the_overdue_amount_at_the_start_of_the_day(portfolio):
    entries = {(e.credit_line_id, e.stage): (e.entered_on, e.assigned_fen) for e in StageEntry.objects.all()}
    line = {name: line.pk for name, line in portfolio.items()}
    assert entries == {
        (line["A"], "reminder"): (MARCH[1], 100_000),
        (line["B"], "reminder"): (MARCH[1], 60_000),
        (line["C"], "reminder"): (MARCH[1], 50_000),
        (line["D"], "reminder"): (MARCH[1], 40_000),
        (line["E"], "reminder"): (MARCH[1], 30_000),
        (line["F"], "reminder"): (MARCH[1], 20_000),
        (line["F"], "collection"): (MARCH[1], 20_000),
    }
    exits = {(x.entry.credit_line_id, x.entry.stage): (x.left_on, x.outcome) for x in StageExit.objects.all()}
    assert exits == {
        (line["A"], "reminder"): (MARCH[3], "paid"),
        (line["D"], "reminder"): (MARCH[4], "reaged"),
        (line["C"], "reminder"): (MARCH[5], "settled"),
        (line["F"], "reminder"): (MARCH[1], "escalated"),
    }


def test_both_ways_of_reading_the_overdue_amounts_give_the_same_entries(portfolio):
    """The entries of 2 March written again after the payments of 3 and 4 March, which are not counted.

    Looked up line by line (an ordinary night) or read from the unpaid bills whole (a first night), the
    amounts are the same: A paid in full on 3 March and still enters with its 1,000 yuan.
    """
    written = {}
    for per_line in (True, False):
        StageEntry.objects.filter(entered_on=MARCH[1]).delete()
        assert stage_entries_write(day=MARCH[1], per_line=per_line) == 7
        rows = StageEntry.objects.filter(entered_on=MARCH[1])
        written[per_line] = {(e.credit_line_id, e.stage): e.assigned_fen for e in rows}
    assert written[True] == written[False]
    assert written[True][(portfolio["A"].pk, "reminder")] == 100_000
    assert written[True][(portfolio["F"].pk, "collection")] == 20_000


@pytest.mark.parametrize("per_move", [True, False], ids=["stays-looked-up-by-case", "stays-joined-whole"])
def test_both_ways_of_joining_a_days_stage_changes_to_the_stays_give_the_exits_worked_out_by_hand(portfolio, per_move):
    if per_move and connection.vendor != "postgresql":
        pytest.skip("the lateral join is PostgreSQL's; SQLite's planner looks each case up by its index already")
    line = {name: line.pk for name, line in portfolio.items()}
    expected = {
        (line["A"], "reminder"): (MARCH[3], "paid"),
        (line["D"], "reminder"): (MARCH[4], "reaged"),
        (line["C"], "reminder"): (MARCH[5], "settled"),
        (line["F"], "reminder"): (MARCH[1], "escalated"),
    }
    StageExit.objects.all().delete()
    for day in MARCH[1:9]:
        stage_exits_write(day=day, per_move=per_move)
    exits = {(x.entry.credit_line_id, x.entry.stage): (x.left_on, x.outcome) for x in StageExit.objects.all()}
    assert exits == expected


def test_the_recovery_of_the_cohorts_by_stage_worked_out_by_hand(portfolio, built):
    tables, _result = built("recovery", **{"from": "2026-03-02", "to": "2026-03-08"})
    rows = {row[0]: row for row in tables["by-stage"].rows}
    reminder, collection = rows["Reminder"], rows["Agent collection"]
    # Reminder: six cases, 1,000 + 600 + 500 + 400 + 300 + 200 yuan assigned; A paid 1,000 and D 100; B's 200
    # came back; F's 50 came while it was in collection.
    assert reminder[1] == Linked(
        6, "/admin/cases/case/?entered_stage=reminder&entered_from=2026-03-02&entered_to=2026-03-08"
    )
    assert reminder[2:5] == [Money(300_000), Money(110_000), Share(110_000, 300_000)]
    assert reminder[5:7] == [2, Share(2, 6)]  # A and D; B's collection was reversed
    assert reminder[7:9] == [1, Share(1, 6)]  # only A is cured by payment
    # Re-aged D, settled C, no write-off or closing, escalated F; B and E still in reminder, E on hold.
    assert reminder[9:] == [1, 1, 0, 0, 1, 2, 1]
    assert collection[1].value == 1
    assert collection[2:5] == [Money(20_000), Money(5_000), Share(5_000, 20_000)]
    assert collection[14:] == [1, 0]
    assert tables["by-stage"].footer[0][1:3] == [7, Money(320_000)]


def test_a_cohort_reads_as_it_stood_at_the_end_of_the_range(portfolio, built):
    tables, _result = built("recovery", **{"from": "2026-03-02", "to": "2026-03-04"})
    reminder = {row[0]: row for row in tables["by-stage"].rows}["Reminder"]
    # By 4 March: A's, B's and D's payments of 3 March are in (B not yet reversed); A resolved on 4 March;
    # C and E on hold; D not yet resolved.
    assert reminder[2:4] == [Money(300_000), Money(130_000)]
    assert reminder[5] == 3
    assert reminder[7] == 1
    assert reminder[9:] == [0, 0, 0, 0, 1, 4, 2]


def test_the_recovery_drill_down_lists_exactly_the_cohorts_cases(portfolio, client, supervisor):
    client.force_login(supervisor)
    listed = {}
    for stage in ("reminder", "collection", "legal"):
        query = {"entered_stage": stage, "entered_from": "2026-03-02", "entered_to": "2026-03-08"}
        response = client.get(reverse("admin:cases_case_changelist"), query)
        assert response.status_code == 200
        listed[stage] = {case.credit_line_id for case in response.context["cl"].result_list}
    assert listed["reminder"] == {line.pk for line in portfolio.values()}
    assert listed["collection"] == {portfolio["F"].pk}
    assert listed["legal"] == set()
    later = {"entered_stage": "reminder", "entered_from": "2026-03-03", "entered_to": "2026-03-08"}
    assert not client.get(reverse("admin:cases_case_changelist"), later).context["cl"].result_list


def test_a_rerun_of_the_nights_changes_nothing(portfolio, run_dunning):
    before = sorted(RecoveryDay.objects.values_list(*[f.attname for f in RecoveryDay._meta.fields if f.name != "id"]))
    exits = StageExit.objects.count()
    for day in (3, 5, 9):
        night(run_dunning, day)
    after = sorted(RecoveryDay.objects.values_list(*[f.attname for f in RecoveryDay._meta.fields if f.name != "id"]))
    assert after == before
    assert StageExit.objects.count() == exits


def test_the_recovery_page_speaks_chinese_and_shows_its_chart(portfolio, client, supervisor):
    client.force_login(supervisor)
    page = client.get(
        reverse("report", args=["recovery"]), {"from": "2026-03-02", "to": "2026-03-08"}, HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()
    assert "催回率" in page
    assert "治愈率" in page
    assert 'id="by-stage-chart"' in page
    assert Decimal("0.3667") == Share(110_000, 300_000).ratio


def test_a_case_the_payment_resolves_the_same_day_is_cured_by_payment(run_dunning):
    line = overdue_line(due=MARCH[0], principal_fen=80_000)
    night(run_dunning, 2)
    night(run_dunning, 3)
    pay(line, "SAME-DAY", "800.00", 3)
    with time_machine.travel(at(3, 11), tick=False):
        lines_refresh(line_ids=[line.pk], as_of=MARCH[2])  # what the API does after posting it
    assert Case.objects.get(credit_line=line).stage == "resolved"
    for day in (4, 5):
        night(run_dunning, day)
    (exit_,) = StageExit.objects.filter(entry__credit_line_id=line.pk)
    assert (exit_.left_on, exit_.outcome) == (MARCH[2], "paid")


@pytest.mark.parametrize("per_move", [True, False], ids=["stays-looked-up-by-case", "stays-joined-whole"])
def test_a_climb_then_a_hold_closed_the_same_day_ends_each_stay_by_its_own_change(run_dunning, per_move):
    """Reminder → collection, collection → hold, hold → closed on 3 March: the reminder stay ends escalated by
    the climb; the close ends only the collection stay it was held in."""
    if per_move and connection.vendor != "postgresql":
        pytest.skip("the lateral join is PostgreSQL's")
    line = overdue_line(due=MARCH[0], principal_fen=70_000)
    night(run_dunning, 2)
    night(run_dunning, 3)
    with time_machine.travel(at(3), tick=False):
        case = Case.objects.open().get(credit_line=line)
        case_escalate(case=case, actor=None, reason="客户失联")
        until = MARCH[9]
        case_hold(case=case, actor=None, reason_code="dispute", note="有争议", until=until, today=MARCH[2])
        case_close(case=case, actor=None, reason="欺诈")
    night(run_dunning, 4)
    StageExit.objects.all().delete()
    assert stage_exits_write(day=MARCH[2], per_move=per_move) == 2
    exits = {x.entry.stage: (x.left_on, x.outcome) for x in StageExit.objects.filter(entry__credit_line_id=line.pk)}
    assert exits == {"reminder": (MARCH[2], "escalated"), "collection": (MARCH[2], "closed")}
