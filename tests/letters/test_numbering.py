"""Letter numbers stay unique and gap-free when letters are drafted at once, and a case gets one letter at a time
(PostgreSQL)."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from cases.models import Case
from letters.models import Letter, LetterTemplate
from letters.services import letter_draft
from tests.factories import overdue_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def at_once(threads: int, work) -> list[Exception]:
    """Run ``work(index)`` in ``threads`` threads released together; return what they raised."""
    barrier, errors = threading.Barrier(threads), []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    started = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(60)
    return errors


def test_letters_drafted_concurrently_get_unique_gap_free_numbers(on_postgres, shipped_data, firm, agent, run_dunning):
    lines = [overdue_line(due=datetime.date(2026, 3, 1)) for _ in range(18)]
    run_dunning(datetime.date(2026, 3, 20))  # 19 days past due: reminder cases, no lawyer letter of the night's
    cases = [Case.objects.with_customer().get(credit_line=line) for line in lines]
    template = LetterTemplate.objects.get(code="reminder-notice", language="zh-hans", is_active=True)

    def draft(index: int) -> None:
        for case in cases[index * 3 : index * 3 + 3]:
            letter_draft(case=case, template=template, actor=agent, render=False)

    assert at_once(6, draft) == []
    numbers = sorted(Letter.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 18
    sequence = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + 18))


def test_two_requests_for_the_same_case_at_once_give_one_letter_and_one_refusal(
    on_postgres, shipped_data, legal_case, firm, agent
):
    template = LetterTemplate.objects.get(code="reminder-notice", language="zh-hans", is_active=True)
    errors = at_once(4, lambda index: letter_draft(case=legal_case, template=template, actor=agent, render=False))
    assert Letter.objects.filter(case=legal_case).count() == 1
    assert len(errors) == 3
    assert all(isinstance(error, ValidationError) and "already has letter" in str(error) for error in errors)
