"""With a broker, the night runs as tasks on real Celery workers; a worker killed mid-run changes nothing in the end."""

import datetime
import json
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db import transaction

from accounts.models import CreditLine
from backoffice.kernel.roles import LEGAL
from backoffice.night import dunning_run
from backoffice.night.steps import worker_name
from cases.choices import BatchStatus, RunStatus
from cases.models import Case, CaseTransition, DunningBatch, DunningRun
from letters.models import Letter
from tests.factories import law_firm_with_lawyer, overdue_line, user_in
from tests.worker import BROKER, ROOT, redis_or_skip, worker_environment, worker_start, worker_stop

DUE = datetime.date(2026, 1, 10)
DAY = DUE + datetime.timedelta(days=40)
OFFSETS = (0, 5, 29, 35, 59, 64, 90)


def portfolio(copies: int) -> list[CreditLine]:
    """Lines in every stage the night reaches by DAY, with the lawyer letters active so that letters are drafted."""
    law_firm_with_lawyer(user_in(LEGAL))
    lines = []
    for _copy in range(copies):
        lines += [overdue_line(due=DUE - datetime.timedelta(days=offset)) for offset in OFFSETS]
        lines += [overdue_line(due=DUE - datetime.timedelta(days=offset), policy="fast-track") for offset in (2, 15)]
    return lines


def digest() -> tuple:
    """What the night wrote, row for row, without the ids and times that differ from one run to another."""
    return (
        sorted(
            Case.objects.values_list(
                "credit_line_id", "stage", "days_past_due", "balance_fen", "hold_until", "queue_rank", "froze_line"
            )
        ),
        sorted(CaseTransition.objects.values_list("case__credit_line_id", "from_stage", "to_stage", "reason")),
        sorted(CreditLine.objects.values_list("id", "status")),
        sorted(Letter.objects.values_list("case__credit_line_id", "status", "template__code", "requested_by_id")),
    )


def uninterrupted_in_process() -> tuple:
    """Return the digest of the night run here, in this process, then roll it back."""

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            dunning_run(as_of=DAY, batch_size=2)
            reference = digest()
            raise Rollback
    except Rollback:
        pass
    assert not Case.objects.exists()
    return reference


def run_ended(seconds: float) -> DunningRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = DunningRun.objects.order_by("-pk").first()
        if run and run.status != RunStatus.RUNNING:
            return run
        time.sleep(0.3)
    return DunningRun.objects.order_by("-pk").first()


@pytest.mark.django_db(transaction=True)
def test_run_dunning_with_a_broker_runs_the_night_on_the_workers(on_postgres, shipped_data, tmp_path):
    redis_or_skip()
    portfolio(copies=1)
    reference = uninterrupted_in_process()
    env = worker_environment(DUNNING_BATCH_SIZE="2")
    worker = worker_start(tmp_path, "night", env, beat=False, queues="celery")
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "manage.py", "run_dunning", "--as-of", DAY.isoformat(), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        worker_stop(worker)
    log = (tmp_path / "night.log").read_text()
    assert done.returncode == 0, done.stderr[-3000:] + log[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    run = DunningRun.objects.get()
    assert (run.status, summary["opened"], run.opened) == (RunStatus.FINISHED, 9, 9)
    assert digest() == reference
    # The batches ran on the worker, not here: each row names the worker's Celery hostname.
    workers = set(DunningBatch.objects.filter(run=run).values_list("worker", flat=True))
    assert len(workers) == 1, workers
    assert next(iter(workers)).startswith("night-"), workers
    assert worker_name() not in workers
    assert set(DunningBatch.objects.filter(run=run).values_list("status", flat=True)) == {BatchStatus.DONE}
    assert "backoffice.night.batch" in log  # on the default queue, the only one this worker takes


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_the_night_to_another_that_ends_it_as_an_uninterrupted_run(
    on_postgres, shipped_data, tmp_path
):
    redis_or_skip()
    lines = portfolio(copies=3)  # 27 lines, 14 batches of 2
    reference = uninterrupted_in_process()
    env = worker_environment(DUNNING_BATCH_SIZE="2", CELERY_VISIBILITY_TIMEOUT="5")
    held = lines[13]  # in the seventh batch
    first = worker_start(tmp_path, "night-a", env, beat=False, queues="celery")
    try:
        with transaction.atomic():
            # Hold one line as a payment would: the first worker's batch for it waits here, mid-run.
            list(CreditLine.objects.select_for_update().filter(pk=held.pk))
            Celery(broker=BROKER, set_as_current=False).send_task(
                "backoffice.night.start", kwargs={"as_of": DAY.isoformat()}
            )
            stuck = waiting_batch(held.pk, seconds=120)
            done_before = DunningBatch.objects.filter(status=BatchStatus.DONE).count()
            first.kill()  # SIGKILL: no shutdown, no acknowledgement, the batch's transaction dies with it
            first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    total = DunningBatch.objects.count()
    assert 0 < done_before < total
    second = worker_start(tmp_path, "night-b", env, beat=False, queues="celery")
    try:
        run = run_ended(180)
    finally:
        worker_stop(second)
    logs = (tmp_path / "night-a.log").read_text()[-2000:] + (tmp_path / "night-b.log").read_text()[-3000:]
    assert run.status == RunStatus.FINISHED, (run.status, run.error, logs)
    assert digest() == reference
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts, stuck.worker.startswith("night-b-")) == (BatchStatus.DONE, 2, True), logs
    by_worker = {row.split("-")[1] for row in DunningBatch.objects.values_list("worker", flat=True)}
    assert by_worker == {"a", "b"}
    assert DunningBatch.objects.filter(status=BatchStatus.DONE).count() == total


def waiting_batch(line_id: int, seconds: float) -> DunningBatch:
    """Return the batch of ``line_id`` once a worker has taken it (and waits on the line)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = DunningBatch.objects.filter(first_id__lte=line_id, last_id__gte=line_id).first()
        if batch and batch.status == BatchStatus.RUNNING:
            return batch
        time.sleep(0.2)
    raise AssertionError("no worker took the batch of the held line")
