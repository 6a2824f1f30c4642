import datetime
import json

import pytest
from django.core.management import call_command

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
