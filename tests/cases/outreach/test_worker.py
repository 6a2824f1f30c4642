"""With a broker, the messages leave through it: beat polls, a real worker process claims and sends them."""

import datetime
import time

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from cases.choices import MessageStatus
from cases.contacts.models import RulePack
from cases.models import Message
from tests.factories import overdue_line
from tests.worker import redis_or_skip, running_worker, worker_environment


def sent_within(seconds: float, expected: int) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent = Message.objects.filter(status=MessageStatus.SENT).count()
        if sent >= expected:
            return sent
        time.sleep(0.3)
    return Message.objects.filter(status=MessageStatus.SENT).count()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_local_redis_sends_the_due_messages(on_postgres, shipped_data, run_dunning, tmp_path):
    redis_or_skip()
    assert django_settings.CELERY_BROKER_URL is None  # this process sends nothing itself: only the worker can
    # Open all day, so that the figure does not depend on the hour CI runs at.
    RulePack.objects.filter(code="cn-default").update(
        window_start=datetime.time(0, 0), window_end=datetime.time(23, 59)
    )
    today = timezone.localdate()
    for _line in range(3):
        overdue_line(due=today - datetime.timedelta(days=1))
    run_dunning(today)
    Message.objects.update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    planned = Message.objects.count()
    with running_worker(tmp_path, "messages", worker_environment()) as log:
        sent = sent_within(90, planned)
    output = log.read_text()
    assert sent == planned == 6, output[-3000:]
    assert "cases.outreach.send" in output  # the worker's own log names the task that sent them
    assert "[sms] reference=MSG-" in output
