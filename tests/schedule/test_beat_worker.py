"""Beat reads its schedule from the database: an entry added there fires through the broker to a real worker
(tests/worker.py, on the local Redis and this test's PostgreSQL database)."""

import time

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from backoffice.kernel.events import EventType, event_record
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookDelivery
from backoffice.kernel.webhooks.services import webhook_subscription_create
from tests.kernel.receiver import Receiver
from tests.worker import redis_or_skip, running_worker, worker_environment


@pytest.fixture
def receiver(root, settings):
    settings.WEBHOOK_HTTPS_ONLY = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    running = Receiver().start()
    _subscription, running.secret = webhook_subscription_create(
        name="core", url=running.url, event_types=[], actor=root
    )
    yield running
    running.stop()


def delivered_within(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.django_db(transaction=True)
def test_an_entry_added_to_the_database_schedule_fires_through_the_broker_and_a_worker_runs_it(
    on_postgres, receiver, tmp_path
):
    redis_or_skip()
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="deliveries every second", task="backoffice.webhooks.poll", interval=every_second)
    event_record(type=EventType.CASE_OPENED, case_id=1)  # autocommit: the worker sees it
    env = worker_environment(
        # The settings' own poll waits five minutes after its start: only the entry added here can deliver.
        WEBHOOK_POLL_SECONDS="300",
        WEBHOOK_HTTPS_ONLY="false",
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",
    )
    with running_worker(tmp_path, "schedule", env) as log:
        delivered = delivered_within(90)
    output = log.read_text()
    assert delivered, output[-3000:]
    # The entry exists only in the database: beat read it there and sent it; the worker ran what it sent.
    assert "Sending due task deliveries every second (backoffice.webhooks.poll)" in output
    assert "Task backoffice.webhooks.poll[" in output
    assert "Sending due task webhooks-poll" not in output
    assert len(receiver.received) == 1
    # At its start beat wrote the settings' polls into the database, with this environment's interval.
    poll = PeriodicTask.objects.select_related("interval").get(name="webhooks-poll")
    assert (poll.task, poll.interval.every, poll.interval.period, poll.expire_seconds) == (
        "backoffice.webhooks.poll",
        300,
        IntervalSchedule.SECONDS,
        300,
    )
