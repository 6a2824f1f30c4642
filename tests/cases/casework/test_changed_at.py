"""A case's ``changed_at`` follows every change the API shows, whichever path made it, and the case list filters
by it (``changed_since``) page by page."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from cases.agencies.services import case_place, case_recall, placements_recall_ended
from cases.casework.services import case_close, case_escalate, case_hold, case_resume
from cases.choices import AgencyStatus, HoldReason, Stage
from cases.dunning.services import case_apply_dunning
from cases.models import Agency, Case, Team
from cases.workload.services import case_assign, case_claim_next
from cases.workload.share_out import assign_by_teams
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def changed_at(case: Case) -> datetime.datetime:
    return Case.objects.values_list("changed_at", flat=True).get(pk=case.pk)


def stamped(moment: datetime.datetime, write) -> object:
    with time_machine.travel(moment, tick=False):
        return write()


def test_the_nightly_run_stamps_new_cases_moves_figures_and_ended_holds_and_leaves_unchanged_cases_alone(
    run_dunning, supervisor
):
    line = overdue_line(due=DUE)
    day = DUE + datetime.timedelta(days=10)
    stamped(at(day), lambda: run_dunning(day))
    case = Case.objects.get(credit_line=line)
    assert changed_at(case) == at(day)
    next_day = day + datetime.timedelta(days=1)
    stamped(at(next_day), lambda: run_dunning(next_day))
    assert changed_at(case) == at(next_day)  # one more day past due
    stamped(at(next_day, 20), lambda: run_dunning(next_day))
    assert changed_at(case) == at(next_day)  # the same figures: no change
    collection = DUE + datetime.timedelta(days=31)
    stamped(at(collection), lambda: run_dunning(collection))
    case.refresh_from_db()
    assert (case.stage, changed_at(case)) == (Stage.COLLECTION, at(collection))
    held = collection + datetime.timedelta(days=1)
    until = held + datetime.timedelta(days=3)
    stamped(
        at(held),
        lambda: case_hold(case=case, actor=supervisor, reason_code=HoldReason.DISPUTE, note="争议", until=until),
    )
    assert changed_at(case) == at(held)
    after = until + datetime.timedelta(days=1)
    stamped(at(after), lambda: run_dunning(after))
    case.refresh_from_db()
    assert (case.stage, case.hold_reason, changed_at(case)) == (Stage.COLLECTION, "", at(after))


def test_the_one_case_path_stamps_a_new_case_and_new_figures_only(db):
    line = overdue_line(due=DUE)
    day = DUE + datetime.timedelta(days=5)
    case = stamped(at(day), lambda: case_apply_dunning(credit_line=line, as_of=day))
    assert changed_at(case) == at(day)
    stamped(at(day, 15), lambda: case_apply_dunning(credit_line=line, as_of=day))
    assert changed_at(case) == at(day)
    later = day + datetime.timedelta(days=1)
    stamped(at(later), lambda: case_apply_dunning(credit_line=line, as_of=later))
    assert changed_at(case) == at(later)


def test_people_moving_assigning_placing_and_recalling_a_case_stamp_it_and_a_claim_does_not(
    run_dunning, supervisor, agent
):
    line = overdue_line(due=DUE)
    day = DUE + datetime.timedelta(days=10)
    stamped(at(day), lambda: run_dunning(day))
    case = Case.objects.with_customer().get(credit_line=line)
    moments = iter(at(day + datetime.timedelta(days=offset)) for offset in range(1, 20))

    def expect_stamp(write):
        moment = next(moments)
        stamped(moment, write)
        assert changed_at(case) == moment

    expect_stamp(lambda: case_assign(case=case, actor=supervisor, assignee=agent))
    unchanged = changed_at(case)
    stamped(next(moments), lambda: case_claim_next(actor=agent))
    assert changed_at(case) == unchanged  # who is looking at it is not part of the case the lender reads
    expect_stamp(lambda: case_escalate(case=case, actor=supervisor, reason="拒不还款"))
    agency = Agency.objects.create(
        name="华信催收",
        status=AgencyStatus.APPROVED,
        contract_start=day - datetime.timedelta(days=30),
        contract_end=day + datetime.timedelta(days=60),
        commission_rate="12.50",
    )
    expect_stamp(lambda: case_place(case=case, agency=agency, actor=supervisor, today=day))
    expect_stamp(lambda: case_recall(case=case, actor=supervisor, reason="合同到期"))
    expect_stamp(lambda: case_place(case=case, agency=agency, actor=supervisor, today=day))
    Agency.objects.filter(pk=agency.pk).update(contract_end=day)
    expect_stamp(lambda: placements_recall_ended(as_of=day + datetime.timedelta(days=10)))
    case.refresh_from_db()
    expect_stamp(
        lambda: case_hold(
            case=case,
            actor=supervisor,
            reason_code=HoldReason.HARDSHIP,
            note="失业",
            until=timezone.localdate() + datetime.timedelta(days=5),
        )
    )
    expect_stamp(lambda: case_resume(case=case, actor=supervisor, reason="恢复"))
    expect_stamp(lambda: case_close(case=case, actor=supervisor, reason="欺诈"))


def test_the_share_out_stamps_the_cases_it_assigns(run_dunning, agent):
    line = overdue_line(due=DUE)
    day = DUE + datetime.timedelta(days=10)
    stamped(at(day), lambda: run_dunning(day))
    team = Team.objects.create(name="提醒组", stage=Stage.REMINDER, workload_cap=10)
    team.members.set([agent])
    case = Case.objects.get(credit_line=line)
    assert stamped(at(day, 12), assign_by_teams) == 1
    assert changed_at(case) == at(day, 12)


@pytest.fixture
def reader(db, django_user_model):
    root = django_user_model.objects.create_superuser("root-changes", password="pw-123456")
    _client, token = api_client_create(name="core", scopes=[Scope.CASES_READ], actor=root)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_changed_since_lists_the_cases_changed_at_or_after_it_in_cursor_pages(run_dunning, reader):
    lines = [overdue_line(due=DUE) for _ in range(5)]
    day = DUE + datetime.timedelta(days=10)
    stamped(at(day), lambda: run_dunning(day))
    later = at(day, 15)
    cases = [Case.objects.get(credit_line=line) for line in lines]
    for case in (cases[0], cases[2], cases[3], cases[4]):
        Case.objects.filter(pk=case.pk).update(changed_at=later)
    url = reverse("api:cases")
    first = reader.get(url, {"changed_since": later.isoformat(), "page_size": 2}).json()
    rest = reader.get(first["next"]).json()
    assert rest["next"] is None
    listed = [case["id"] for case in first["results"] + rest["results"]]
    assert listed == [cases[0].pk, cases[2].pk, cases[3].pk, cases[4].pk]  # at the instant itself included
    assert first["results"][0]["changed_at"] == later.isoformat()
    just_after = (later + datetime.timedelta(microseconds=1)).isoformat()
    assert reader.get(url, {"changed_since": just_after}).json()["results"] == []
    assert len(reader.get(url, {"changed_since": at(day).isoformat()}).json()["results"]) == 5


def test_a_changed_since_that_is_no_date_and_time_is_refused_in_the_one_error_format(reader):
    response = reader.get(reverse("api:cases"), {"changed_since": "yesterday"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["index"], error["field"], error["value"], error["code"]) == (
        None,
        "changed_since",
        "yesterday",
        "invalid",
    )
    assert error["message"]
