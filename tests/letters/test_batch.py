import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from cases.models import DunningPolicy
from letters.choices import LetterStatus
from letters.models import Letter
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db


def test_the_dunning_run_drafts_the_policy_letter_for_cases_entering_legal_and_render_letters_renders_them(
    firm, capsys
):
    entering = overdue_line(due=datetime.date(2026, 1, 10))
    staying = overdue_line(due=datetime.date(2026, 2, 20))
    call_command("run_dunning", "--as-of", "2026-03-20", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["letters_drafted"] == 1
    letter = Letter.objects.get()
    assert (letter.case.credit_line, letter.status, bool(letter.pdf)) == (entering, LetterStatus.DRAFT, False)
    assert letter.requested_by is None
    assert not Letter.objects.filter(case__credit_line=staying).exists()

    call_command("run_dunning", "--as-of", "2026-03-20", "--json")
    assert json.loads(capsys.readouterr().out)["letters_drafted"] == 0

    call_command("render_letters", "--processes", "1")
    letter.refresh_from_db()
    assert letter.status == LetterStatus.PENDING_APPROVAL
    assert len(letter.pdf_sha256) == 64


def test_a_policy_without_a_letter_template_drafts_nothing(capsys):
    DunningPolicy.objects.update(legal_letter_template="")
    overdue_line(due=datetime.date(2026, 1, 10))
    call_command("run_dunning", "--as-of", "2026-03-20", "--json")
    assert json.loads(capsys.readouterr().out)["letters_drafted"] == 0


def test_bench_letters_renders_in_worker_processes_without_a_database_and_prints_its_figures(firm, capsys, monkeypatch):
    # The workers set Django up afresh: any query of theirs would fail on this database.
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/no-database-here.sqlite3")
    call_command("bench_letters", "--count", "3", "--processes", "1", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert {
        "letters",
        "letters_per_second",
        "single_render_ms",
        "peak_rss_mb",
        "ratio_vs_plain_render",
    } <= figures.keys()
    assert figures["letters"] == 3
    # Every letter went through the worker: its CPU time and its PDF were counted.
    assert figures["worker_cpu_ms_per_letter"] > 0
    assert figures["pdf_kb_per_letter"] > 10


@pytest.mark.parametrize("option", ["--count", "--processes"])
def test_bench_letters_refuses_fewer_than_one_naming_the_option_and_value(option):
    with pytest.raises(CommandError, match=f"^{option} 0: must be at least 1"):
        call_command("bench_letters", option, "0")
