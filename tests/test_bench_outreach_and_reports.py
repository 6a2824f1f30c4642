"""The outreach and report benchmarks run on an empty ledger, print the figures they promise, and clean up."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import CreditLine
from backoffice.reports.models import LineDay, PeopleDay
from backoffice.reports.registry import REPORTS
from cases.models import Message, ReminderRule
from tests.factories import overdue_line


def test_bench_outreach_prints_its_figures_and_cleans_up(capsys, shipped_data, on_postgres):
    # Committed data (shipped_data is transactional): the two worker processes read it from the same database.
    call_command("bench_outreach", "--lines", "3000", "--send", "300", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert {"lines", "planned", "plan_seconds", "send_per_second"} <= figures.keys()
    assert figures["planned"] > 300
    assert (figures["sent"], figures["workers"]) == (300, 2)
    assert figures["send_per_second"] > 0
    assert not CreditLine.objects.exists()
    assert not Message.objects.exists()
    assert not ReminderRule.objects.filter(policy__code__startswith="bench-").exists()


@pytest.mark.django_db
def test_bench_outreach_refuses_a_ledger_that_is_not_empty():
    overdue_line(due=datetime.date(2026, 1, 10))
    with pytest.raises(CommandError, match="empty ledger"):
        call_command("bench_outreach", "--lines", "10")


def test_bench_reports_prints_the_aggregate_and_every_report_and_cleans_up(capsys, shipped_data):
    call_command("bench_reports", "--lines", "600", "--months", "2", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert {"lines", "months", "reports", "dashboard_ms", "aggregate_seconds"} <= figures.keys()
    assert set(figures["reports"]) == set(REPORTS)
    steps = figures["aggregate_steps_seconds"]
    assert {"line_days", "entry_rate", "compliance", "recovery_entries", "recovery_exits", "people"} <= steps.keys()
    assert abs(sum(steps.values()) - figures["aggregate_seconds"]) < 0.05
    # The figures are tonight's, an ordinary night; the portfolio's first night, which enters nearly every
    # overdue line in a stage, is timed apart.
    first = figures["first_night"]
    assert first["as_of"] < str(timezone.localdate())
    assert first["stage_entries"] > 5 * max(figures["stage_entries"], 1)
    assert abs(sum(first["aggregate_steps_seconds"].values()) - first["aggregate_seconds"]) < 0.05
    assert set(figures["month_end_steps_seconds"]) == {"positions", "flow", "vintage"}
    assert all(report["queries"] <= 10 for report in figures["reports"].values())
    assert not CreditLine.objects.exists()
    assert not LineDay.objects.exists()
    assert not PeopleDay.objects.exists()
