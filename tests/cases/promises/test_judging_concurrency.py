"""Two judgings of the same promise at once, on a real PostgreSQL: it is judged once, counted once, reported once.

The night judges every pending promise before its batches; a payment's same-day refresh judges the
promises of its lines. Both read the promise as pending; the one that locks it second must find it
judged. (SQLite's write transactions exclude each other whole, so it cannot show the race.)
"""

import datetime

import pytest
from django.db import transaction

from backoffice.kernel.events import Event, EventType
from cases.choices import PromiseStatus
from cases.models import Case, Promise
from cases.promises.judging import promises_judge
from cases.promises.services import promise_record
from tests.factories import overdue_line
from tests.test_sameday_concurrency import in_a_thread, others_wait_on_locks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 2, 5)


def test_a_promise_judged_by_two_at_once_is_broken_once(on_postgres, shipped_data, run_dunning, agent):
    line = overdue_line(due=DUE)
    run_dunning(TODAY)
    case = Case.objects.get(credit_line=line)
    promise = promise_record(
        case=case, actor=agent, amount="500.00", due_date=TODAY + datetime.timedelta(days=2), today=TODAY
    )
    judging_day = TODAY + datetime.timedelta(days=6)  # past the grace: broken
    outcome: dict = {}
    with transaction.atomic():
        # The first judging has written and holds the promise's row until it commits.
        assert promises_judge(as_of=judging_day, credit_line_ids=[line.pk]) == {"kept": 0, "broken": 1}
        # The second read it as pending (the first is not committed) and now waits for the row.
        second = in_a_thread(lambda: promises_judge(as_of=judging_day), outcome, "second")
        assert others_wait_on_locks()
    second.join(timeout=30)
    assert outcome["second"] == {"kept": 0, "broken": 0}
    assert Promise.objects.get(pk=promise.pk).status == PromiseStatus.BROKEN
    assert Case.objects.get(pk=case.pk).broken_promises == 1
    assert Event.objects.filter(type=EventType.PROMISE_BROKEN).count() == 1
