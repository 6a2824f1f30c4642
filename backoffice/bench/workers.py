"""Celery workers for the benchmarks: N worker processes on a broker, and the night run through them."""

import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from celery import Celery
from django.conf import settings

from backoffice.night import night_open
from cases.choices import BatchStatus, RunStatus
from cases.dunning.models import DunningBatch, DunningRun

ROOT = Path(__file__).resolve().parents[2]
# A database of the local Redis that neither the tests (5) nor a default set-up (0) uses.
DEFAULT_BROKER = "redis://127.0.0.1:6379/7"


def bench_broker() -> str:
    """Return the broker the benchmark's workers use: ``CELERY_BROKER_URL``, or the benchmark's own Redis database."""
    return settings.CELERY_BROKER_URL or DEFAULT_BROKER


@contextlib.contextmanager
def running_workers(count: int, *, broker: str, batch_size: int) -> Iterator[list[subprocess.Popen]]:
    """Run ``count`` solo-pool workers on ``broker`` against this database until the block ends."""
    env = {**os.environ, "CELERY_BROKER_URL": broker, "DUNNING_BATCH_SIZE": str(batch_size), "DEBUG": "false"}
    app = Celery(broker=broker, set_as_current=False)
    if broker == DEFAULT_BROKER:
        app.control.purge()  # the benchmark's own database: what an interrupted benchmark left queued
    logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                *(sys.executable, "-m", "celery", "-A", "backoffice", "worker", "--pool=solo"),
                *("--loglevel=WARNING", "-n", f"bench-{index}@%h"),
            ],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"worker-{index}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for index in range(count)
    ]
    try:
        _wait_ready(app, count)
        yield workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _wait_ready(app: Celery, count: int, seconds: float = 180) -> None:
    """Wait until ``count`` workers answer a ping, so that their start is not timed with the night."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0)) >= count:
            return
    raise RuntimeError(f"{count} Celery workers did not start within {seconds:.0f} s on {app.conf.broker_url}.")


def workers_peak_rss_mb() -> float:
    """Return the largest peak resident memory of this process's finished children, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def night_through_workers(
    *, broker: str, as_of: object, batch_size: int, on_lines: Callable[[int], None] | None = None
) -> DunningRun:
    """Open the night here, queue its first step on ``broker`` and wait for the workers to end it; return the run."""
    run = night_open(as_of=as_of, batch_size=batch_size)
    Celery(broker=broker, set_as_current=False).send_task("backoffice.night.step", args=[run.pk])
    shown = 0
    while run.status == RunStatus.RUNNING:
        time.sleep(0.5)
        run.refresh_from_db()
        if on_lines:
            done = DunningBatch.objects.filter(run=run, status=BatchStatus.DONE).values_list("first_id", "last_id")
            lines = sum(last - first + 1 for first, last in done)
            on_lines(lines - shown)
            shown = lines
    if run.status != RunStatus.FINISHED:
        raise RuntimeError(f"Dunning run {run.pk} ended {run.status}: {run.error}")
    return run
