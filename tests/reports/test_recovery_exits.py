"""How a stay in a stage ends when the case leaves a hold for good after it has climbed.

A line due 20 January is DPD 41 on 2 March: it opens straight in collection, so it enters reminder and
collection that day and its reminder stay ends as escalated. Put on hold on 4 March and settled from the
hold on 6 March, the settling ends the collection stay only: the reminder stay had ended already.
"""

import datetime

import pytest
import time_machine

from backoffice.reports.aggregate import aggregate_steps, reports_aggregate
from backoffice.reports.models_recovery import StageExit
from cases.casework.services import case_hold, case_settle
from cases.models import Case
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def night(run_dunning, day: int) -> None:
    with time_machine.travel(at(day, 0).replace(minute=10), tick=False):
        run_dunning(datetime.date(2026, 3, day))


def test_settling_from_a_hold_ends_only_the_stay_still_open(run_dunning, supervisor):
    line = overdue_line(due=datetime.date(2026, 1, 20), principal_fen=20_000)
    night(run_dunning, 2)
    night(run_dunning, 3)
    night(run_dunning, 4)
    with time_machine.travel(at(4), tick=False):
        case = Case.objects.open().get(credit_line=line)
        case_hold(case=case, actor=supervisor, reason_code="dispute", note="有争议", until=datetime.date(2026, 4, 1))
    night(run_dunning, 5)
    night(run_dunning, 6)
    with time_machine.travel(at(6), tick=False):
        case_settle(case=Case.objects.get(credit_line=line), actor=supervisor, reason="一次性结清")
    night(run_dunning, 7)
    night(run_dunning, 8)
    exits = StageExit.objects.filter(entry__credit_line_id=line.pk)
    ended = sorted(exits.values_list("entry__stage", "entry__entered_on", "left_on", "outcome"))
    assert ended == [
        ("collection", datetime.date(2026, 3, 2), datetime.date(2026, 3, 6), "settled"),
        ("reminder", datetime.date(2026, 3, 2), datetime.date(2026, 3, 2), "escalated"),
    ]
    with time_machine.travel(at(8, 1), tick=False):
        assert reports_aggregate(as_of=datetime.date(2026, 3, 7)) == 0
    assert exits.count() == 2


def test_the_night_lists_its_statements_and_adds_the_month_end_ones_on_a_month_end():
    names = [name for name, _step in aggregate_steps(as_of=datetime.date(2026, 3, 7))]
    assert names == [
        "line_days",
        "entry_rate",
        "compliance",
        "recovery_entries",
        "recovery_exits",
        "recovery_days",
        "letters_days",
        "letters_paid",
        "people",
    ]
    month_end = [name for name, _step in aggregate_steps(as_of=datetime.date(2026, 3, 31))]
    assert month_end == [*names, "positions", "flow", "vintage"]
