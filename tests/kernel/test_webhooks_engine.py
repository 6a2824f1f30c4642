"""Who delivers: with no broker, a thread woken by the commit (never the writer itself); with a broker, a real
Celery worker process on the local Redis, polled by its beat."""

import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, transaction

from backoffice import celery_app
from backoffice.kernel.events import EventType, event_record
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.worker import redis_or_skip, running_worker, worker_environment


def delivered_within(seconds: float) -> WebhookDelivery | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            delivery = WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first()
        except OperationalError as exc:
            # The tests' in-memory SQLite locks a whole table while the delivery thread writes to it,
            # and a reader meanwhile is refused at once rather than waiting: look again.
            if "locked" not in str(exc):
                raise
            delivery = None
        if delivery:
            return delivery
        time.sleep(0.2)
    return None


@pytest.mark.django_db(transaction=True)
def test_with_no_broker_a_commit_wakes_a_delivery_thread_and_the_writer_does_not_wait_for_it(
    subscribe, receiver, settings
):
    settings.EVENTS_ON_COMMIT = "backoffice.kernel.webhooks.dispatch.webhooks_wake"
    assert settings.CELERY_BROKER_URL is None
    subscribe()
    receiver.delay = 1.0
    started = time.perf_counter()
    with transaction.atomic():
        event_record(type=EventType.CASE_OPENED, case_id=1)
    assert time.perf_counter() - started < 0.5
    assert delivered_within(15) is not None
    assert WebhookAttempt.objects.get().runner.startswith("thread ")
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_local_redis_delivers_through_the_broker(on_postgres, subscribe, receiver, tmp_path):
    redis_or_skip()
    assert django_settings.CELERY_BROKER_URL is None  # this process delivers nothing itself: only the worker can
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=1)  # autocommit: the worker sees it
    env = worker_environment(
        WEBHOOK_HTTPS_ONLY="false",
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",  # the receiver's, as the subscribe fixture allows it here
    )
    with running_worker(tmp_path, "webhooks", env) as log:
        delivery = delivered_within(90)
    output = log.read_text()
    assert delivery is not None, output[-3000:]
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    runner, task_id = attempt.runner.split(" ", 1)
    assert runner == "worker"
    assert str(uuid.UUID(task_id)) == task_id
    assert task_id in output  # the worker's own log names the task it ran
    assert len(receiver.received) == 1


def test_every_task_runs_on_the_baseline_late_ack_requeue_on_loss_one_at_a_time_minutes_not_an_hour():
    celery_app.loader.import_default_modules()  # as a worker does at start: the autodiscovered task modules
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 60 <= conf.broker_transport_options["visibility_timeout"] <= 600
    assert conf.beat_schedule["webhooks-poll"]["schedule"] <= 60
    assert conf.beat_schedule["messages-poll"]["schedule"] <= 60
    assert {"backoffice.webhooks.poll", "backoffice.webhooks.deliver"} <= set(celery_app.tasks)
    assert {"cases.outreach.poll", "cases.outreach.send"} <= set(celery_app.tasks)
