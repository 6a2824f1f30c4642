"""Two pollers sending the due letters at once, on a real PostgreSQL and a real mail server: each letter once."""

import collections
import datetime
import threading

import pytest
import time_machine
from django.db import connections

from accounts.models import Customer
from cases.models import Case
from letters.choices import LetterStatus
from letters.dispatch import letter_dispatch, letters_send_due
from letters.models import Letter, LetterTemplate
from letters.services import letter_approve, letter_draft
from tests.factories import law_firm_with_lawyer, overdue_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
LATE_EVENING = datetime.datetime(2026, 11, 30, 22, 30, tzinfo=SHANGHAI)
NEXT_MORNING = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)


def queued_letters(count, *, agent, legal, run_dunning):
    """Return ``count`` approved letters queued for e-mail at night, due when the customers' morning begins."""
    lines = [overdue_line(due=datetime.date(2026, 1, 10)) for _ in range(count)]
    for line in lines:
        Customer.objects.filter(pk=line.customer_id).update(email=f"c{line.pk}@example.com")
    run_dunning(datetime.date(2026, 3, 20))  # before the firm's templates are active: the night drafts none
    law_firm_with_lawyer(legal)
    template = LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans", is_active=True)
    letters = []
    for line in lines:
        case = Case.objects.with_customer().get(credit_line=line)
        letter = letter_draft(case=case, template=template, actor=agent, as_of=datetime.date(2026, 3, 20))
        letter.refresh_from_db()
        letter = letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
        with time_machine.travel(LATE_EVENING, tick=False):
            letters.append(
                letter_dispatch(letter=letter, actor=legal, channel="email", address=f"c{line.pk}@example.com")
            )
    return letters


def test_two_pollers_at_once_send_each_due_letter_once(
    on_postgres, shipped_data, agent, legal, run_dunning, smtp_server
):
    letters = queued_letters(4, agent=agent, legal=legal, run_dunning=run_dunning)
    assert {letter.next_attempt_at for letter in letters} == {NEXT_MORNING}
    smtp_server.delay = 0.2  # each conversation long enough for the other poller to reach the same letter
    start, results = threading.Barrier(2), {}

    def poll(name):
        try:
            start.wait(10)
            results[name] = letters_send_due(now=NEXT_MORNING)
        finally:
            connections.close_all()

    pollers = [threading.Thread(target=poll, args=(name,)) for name in ("first", "second")]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join(60)
    assert sum(results.values()) == 4
    received = collections.Counter(message["Subject"] for message in smtp_server.received)
    assert received == {f"律师函 {letter.number}": 1 for letter in letters}
    assert set(Letter.objects.values_list("status", flat=True)) == {LetterStatus.SENT}
