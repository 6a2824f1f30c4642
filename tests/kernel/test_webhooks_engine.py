"""Who delivers: with no broker, a thread woken by the commit (never the writer itself); with a broker, a real
Celery worker process on the local Redis, polled by its beat."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from backoffice import celery_app
from backoffice.kernel.events import EventType, event_record
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/5"  # a database of the local Redis used by this test only


def delivered_within(seconds: float) -> WebhookDelivery | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first()
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


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("needs Redis on 127.0.0.1:6379 (.ci/run starts it)")
    return client


def _worker_environment() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    return {
        **os.environ,
        "DATABASE_URL": url,  # the test database, where this test's committed rows are
        "CELERY_BROKER_URL": BROKER,
        "SECRET_KEY": "worker-test-only",
        "WEBHOOK_POLL_SECONDS": "1",
        "WEBHOOK_HTTPS_ONLY": "false",
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",  # the receiver's, as the subscribe fixture allows it here
        "DEBUG": "false",
    }


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_local_redis_delivers_through_the_broker(on_postgres, subscribe, receiver, tmp_path):
    _redis_or_skip().flushdb()
    assert django_settings.CELERY_BROKER_URL is None  # this process delivers nothing itself: only the worker can
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=1)  # autocommit: the worker sees it
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            *(sys.executable, "-m", "celery", "-A", "backoffice", "worker", "--pool=solo", "--beat"),
            *(
                "--schedule",
                str(tmp_path / "beat-schedule"),
                "--loglevel=INFO",
                "-n",
                f"webhooks-{uuid.uuid4().hex[:6]}@%h",
            ),
        ],
        cwd=ROOT,
        env=_worker_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        delivery = delivered_within(90)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    output = (tmp_path / "worker.log").read_text()
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
    assert {"backoffice.webhooks.poll", "backoffice.webhooks.deliver"} <= set(celery_app.tasks)
