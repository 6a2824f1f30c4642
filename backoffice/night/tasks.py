"""The night as Celery tasks: a chain of thin, idempotent tasks keyed by ids, on the default queue.

``backoffice.night.start`` (beat, or ``run_dunning``) opens the run; ``backoffice.night.step`` does
the step the run's marker points at and queues the next one once it has committed; at the batches,
it queues one ``backoffice.night.batch`` per id range left, which any number of workers take. The
batch that commits last moves the marker on and queues the next step. Completion is counted in the
database rows, never in the broker (no chords), and a redelivered task finds its work done.
"""

import datetime
import logging

from celery import group, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backoffice.night import night_open
from backoffice.night.steps import BATCHES, BATCHES_INDEX, STEPS, batch_do, batches_none, step_run
from backoffice.reports.night_watch import night_alerts
from cases.choices import RunStatus
from cases.dunning.lease import DunningLeaseLost, DunningRunLocked
from cases.dunning.models import DunningBatch, DunningRun
from cases.dunning.runs import DunningBatchFailed, batches_left, run_close

logger = logging.getLogger(__name__)


@shared_task(name="backoffice.night.start", ignore_result=True)
def night_start_task(as_of: str | None = None) -> int | None:
    """Open the night for ``as_of`` (ISO date; default today's business date) and queue its first step."""
    day = datetime.date.fromisoformat(as_of) if as_of else timezone.localdate()
    try:
        run = night_open(as_of=day, batch_size=settings.DUNNING_BATCH_SIZE)
    except DunningRunLocked as exc:
        logger.warning("The night for %s did not start: %s", day, exc)
        return None
    night_continue(run.pk)
    return run.pk


def night_continue(run_id: int) -> None:
    """Queue, once the current transaction commits, the task for the step the run's marker points at."""
    transaction.on_commit(lambda: night_step_task.delay(run_id))


@shared_task(name="backoffice.night.step", ignore_result=True)
def night_step_task(run_id: int) -> None:
    """Do the run's current step and queue the next; at the batches, queue the batches left."""
    run = DunningRun.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return
    index = run.steps_done
    if index >= len(STEPS):
        run_close(run_id=run_id, status=RunStatus.FINISHED)
        return
    if STEPS[index].name == BATCHES:
        left = batches_left(run_id=run_id)
        if left:
            transaction.on_commit(lambda: group(night_batch_task.s(batch_id) for batch_id in left).apply_async())
        elif batches_none(run_id):
            night_continue(run_id)
        return
    try:
        step_run(run_id=run_id, index=index)
    except DunningLeaseLost as exc:
        logger.error("%s", exc)
        return
    except Exception as exc:
        run_close(run_id=run_id, status=RunStatus.FAILED, error=f"{STEPS[index].name}: {exc!r}")
        raise
    night_continue(run_id)


@shared_task(name="backoffice.night.batch", bind=True, ignore_result=True)
def night_batch_task(self, batch_id: int) -> None:
    """Run one batch; the last of its run queues the next step (so does a redelivery that finds the step not begun)."""
    try:
        outcome = batch_do(batch_id=batch_id, worker=self.request.hostname or "")
    except (DunningBatchFailed, DunningLeaseLost) as exc:
        logger.error("%s", exc)
        return
    if outcome.last:
        night_continue(DunningBatch.objects.get(pk=batch_id).run_id)
    elif not outcome.size:
        # Done already: perhaps by this very task, killed between its commit and queuing the next step.
        run = DunningBatch.objects.select_related("run").get(pk=batch_id).run
        if run.status == RunStatus.RUNNING and run.steps_done == BATCHES_INDEX + 1:
            night_continue(run.pk)


@shared_task(name="backoffice.night.watch", ignore_result=True)
def night_watch_task() -> int:
    """Log as an error a night not finished by its deadline or a lease expired; return how many findings."""
    return len(night_alerts())
