"""Automatic assignment of new and escalated cases within the stage's team, under a workload cap."""

import datetime

import pytest
from django.core.management import call_command

from backoffice.kernel.roles import AGENT
from cases.choices import Stage
from cases.models import Case, CaseAssignment, Team
from cases.workload.services import case_assign
from cases.workload.share_out import assign_by_teams
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)


def team(name, stage, cap, *members):
    created = Team.objects.create(name=name, stage=stage, workload_cap=cap)
    created.members.set(members)
    return created


def test_new_cases_go_to_the_agent_with_fewest_open_cases_until_everyone_is_at_the_cap(run_dunning, supervisor):
    busy, free = user_in(AGENT, "busy"), user_in(AGENT, "free")
    team("Reminders", Stage.REMINDER, 3, busy, free)
    early = overdue_line(due=DUE)
    assert run_dunning(datetime.date(2026, 1, 15)).assigned == 1
    assert Case.objects.get(credit_line=early).assignee == busy  # both had none: the first in the team
    for offset in range(5):
        overdue_line(due=DUE + datetime.timedelta(days=offset))
    run = run_dunning(datetime.date(2026, 1, 20))

    assert run.assigned == 5  # busy 1 + 2, free 3: both at the cap of 3
    open_cases = Case.objects.open()
    assert open_cases.filter(assignee=busy).count() == 3
    assert open_cases.filter(assignee=free).count() == 3
    assert open_cases.filter(assignee__isnull=True).count() == 0
    assert CaseAssignment.objects.filter(actor=None).count() == 6

    overdue_line(due=DUE)
    run = run_dunning(datetime.date(2026, 1, 21))
    assert run.assigned == 0  # everyone is at the cap: the new case waits unassigned
    assert assign_by_teams(run=run) == 0
    assert Case.objects.open().filter(assignee__isnull=True).count() == 1


def test_an_escalated_case_moves_from_the_reminder_team_to_the_collection_team(run_dunning):
    reminder_agent, collector = user_in(AGENT, "reminders"), user_in(AGENT, "collector")
    team("Reminders", Stage.REMINDER, 100, reminder_agent)
    team("Collection", Stage.COLLECTION, 100, collector)
    line = overdue_line(due=DUE)
    run_dunning(datetime.date(2026, 1, 20))
    assert Case.objects.get(credit_line=line).assignee == reminder_agent

    # Nothing moves while the case stays in its stage.
    assert run_dunning(datetime.date(2026, 1, 25)).assigned == 0

    assert run_dunning(datetime.date(2026, 2, 10)).assigned == 1  # DPD 31
    case = Case.objects.get(credit_line=line)
    assert case.stage == Stage.COLLECTION
    assert case.assignee == collector
    assert CaseAssignment.objects.filter(case=case, assigned_from=reminder_agent, assigned_to=collector).exists()


def test_a_case_a_supervisor_gave_outside_the_team_stays_where_it_was_put(run_dunning, supervisor):
    member, outsider = user_in(AGENT, "member"), user_in(AGENT, "outsider")
    team("Reminders", Stage.REMINDER, 100, member)
    line = overdue_line(due=DUE)
    run_dunning(datetime.date(2026, 1, 20))
    case_assign(case=Case.objects.get(credit_line=line), actor=supervisor, assignee=outsider)
    assert run_dunning(datetime.date(2026, 1, 21)).assigned == 0
    assert Case.objects.get(credit_line=line).assignee == outsider


def test_the_daily_command_assigns_after_the_run(capsys):
    agent = user_in(AGENT, "daily")
    team("Reminders", Stage.REMINDER, 100, agent)
    overdue_line(due=DUE)
    call_command("run_dunning", "--as-of", "2026-01-20")
    assert "1 cases assigned" in capsys.readouterr().out
    assert Case.objects.get().assignee == agent
