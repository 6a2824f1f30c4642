"""Letter numbers stay unique and gap-free when letters are drafted at once (PostgreSQL)."""

import threading

import pytest
from django.db import connections

from letters.models import Letter, LetterTemplate
from letters.services import letter_draft

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_letters_drafted_concurrently_get_unique_gap_free_numbers(on_postgres, shipped_data, legal_case, firm, agent):
    template = LetterTemplate.objects.get(code="reminder-notice-zh", is_active=True)
    barrier, errors = threading.Barrier(6), []

    def draft():
        try:
            barrier.wait()
            for _ in range(3):
                letter_draft(case=legal_case, template=template, actor=agent, render=False)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draft) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    numbers = sorted(Letter.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 18
    sequence = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + 18))
