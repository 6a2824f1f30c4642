"""A dunning run's record and its batches: opened under the lease, one ``DunningBatch`` row per id range.

Whoever runs a batch (this process, or any Celery worker) claims its row, runs it and marks it done
in the batch's own transaction, so a batch is done exactly when its writes are committed. The batch
that commits last sees, under a row lock on the run, no batch left: it alone says so. Completion is
counted in these rows, never in the broker.
"""

import datetime
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import BatchStatus, NightStep, RunStatus
from cases.dunning.batch import Tally, id_ranges, load_thresholds, run_batch
from cases.dunning.lease import lease_acquire, lease_attach, lease_release
from cases.dunning.models import DunningBatch, DunningRun
from cases.dunning.plan import Thresholds

# What a batch counts, summed into the run when the last batch is done.
BATCH_COUNTS = (
    "lines_examined",
    "opened",
    "escalated_collection",
    "escalated_legal",
    "holds_ended",
    "resolved",
    "unchanged",
    "lines_frozen",
)


class DunningBatchFailed(Exception):
    """A batch failed every attempt: the run stopped."""


def run_open(
    *, as_of: datetime.date, dry_run: bool, actor: AbstractBaseUser | None, batch_size: int, holder: str
) -> DunningRun:
    """Take the lease, record a new run and write its batches, one row per id range; return the run.

    Raise ``DunningRunLocked`` if another run holds the lease.
    """
    lease_acquire(holder=holder)
    run = DunningRun.objects.create(
        as_of=as_of, dry_run=dry_run, started_at=timezone.now(), started_by=actor, step=NightStep.PROMISES
    )
    lease_attach(holder=holder, run=run)
    DunningBatch.objects.bulk_create(
        DunningBatch(run=run, first_id=first, last_id=last) for first, last in id_ranges(batch_size)
    )
    return run


def batches_left(*, run_id: int) -> list[int]:
    """Return the ids of the run's batches not done, in id-range order."""
    rows = DunningBatch.objects.filter(run_id=run_id).exclude(status=BatchStatus.DONE).order_by("first_id")
    return list(rows.values_list("id", flat=True))


def batch_claim(*, batch_id: int, worker: str) -> DunningBatch | None:
    """Count an attempt at the batch by ``worker`` (committed at once); return it, or None if there is nothing to do.

    Nothing to do: the batch is done, or its run is no longer running (failed, abandoned).
    """
    claimed = (
        DunningBatch.objects.filter(pk=batch_id, run__status=RunStatus.RUNNING)
        .exclude(status=BatchStatus.DONE)
        .update(status=BatchStatus.RUNNING, attempts=F("attempts") + 1, worker=worker, started_at=timezone.now())
    )
    return DunningBatch.objects.select_related("run").get(pk=batch_id) if claimed else None


def batch_execute(
    *,
    batch_id: int,
    thresholds: dict[int, Thresholds] | None = None,
    on_last: Callable[[DunningRun, Tally], None] | None = None,
) -> Tally | None:
    """Run the batch and mark it done in one transaction; return its tally, or None if it was done already.

    Duplicates of one batch (a redelivered message) queue on the batch's row lock, and the second
    finds it done. If no batch of the run is left once this one is done, ``on_last`` is called, in
    the same transaction, with the run (row-locked) and the sum of its batches.
    """
    with transaction.atomic():
        # Only the batch's row: locking its run's too (a plain FOR UPDATE over the join) would make every other
        # worker's batch wait for this one to commit, and the batches would run one at a time.
        batch = DunningBatch.objects.select_for_update(of=("self",)).select_related("run").get(pk=batch_id)
        if batch.status == BatchStatus.DONE or batch.run.status != RunStatus.RUNNING:
            return None
        run = batch.run
        tally = run_batch(
            run=run,
            as_of=run.as_of,
            first_id=batch.first_id,
            last_id=batch.last_id,
            thresholds=load_thresholds() if thresholds is None else thresholds,
            dry_run=run.dry_run,
        )
        batch.status, batch.finished_at, batch.error = BatchStatus.DONE, timezone.now(), ""
        batch.tally = {name: getattr(tally, name) for name in BATCH_COUNTS}
        batch.save(update_fields=["status", "finished_at", "error", "tally"])
        # The run's row lock orders the batches' last statements: the one that locks it last sees all the others done.
        run = DunningRun.objects.select_for_update().get(pk=run.pk)
        if on_last and not DunningBatch.objects.filter(run=run).exclude(status=BatchStatus.DONE).exists():
            on_last(run, run_tally(run_id=run.pk))
    return tally


def batch_attempt_failed(*, batch_id: int, error: str, attempts_allowed: int) -> bool:
    """Record a failed attempt; once the batch has had ``attempts_allowed``, stop the run naming its range.

    Return whether the run was stopped.
    """
    batch = DunningBatch.objects.get(pk=batch_id)
    final = batch.attempts >= attempts_allowed
    DunningBatch.objects.filter(pk=batch_id).update(
        error=error, status=BatchStatus.FAILED if final else BatchStatus.PENDING
    )
    if final:
        message = _("Credit lines %(first)s–%(last)s failed %(attempts)s times: %(error)s") % {
            "first": batch.first_id,
            "last": batch.last_id,
            "attempts": batch.attempts,
            "error": error,
        }
        run_close(run_id=batch.run_id, status=RunStatus.FAILED, error=message)
    return final


def run_tally(*, run_id: int) -> Tally:
    """Return the sum of what the run's done batches counted."""
    tally = Tally()
    for counts in DunningBatch.objects.filter(run_id=run_id, status=BatchStatus.DONE).values_list("tally", flat=True):
        tally += Tally(**{name: counts.get(name, 0) for name in BATCH_COUNTS})
    return tally


def run_step_done(*, run_id: int, index: int, next_step: str, counts: dict[str, int]) -> bool:
    """Advance the run's step marker from ``index`` and record the step's counts; return False if already past it."""
    return bool(
        DunningRun.objects.filter(pk=run_id, steps_done=index, status=RunStatus.RUNNING).update(
            steps_done=index + 1, step=next_step, **counts
        )
    )


def run_close(*, run_id: int, status: str, error: str = "") -> DunningRun | None:
    """End the running run as ``status`` and free its lease; return it, or None if it had ended already."""
    now = timezone.now()
    run = DunningRun.objects.get(pk=run_id)
    ended = DunningRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=status, error=error, finished_at=now, step="", seconds=(now - run.started_at).total_seconds()
    )
    lease_release(run_id=run_id)
    if not ended:
        return None
    run.refresh_from_db()
    return run


def tally_counts(source: Tally | DunningRun) -> dict[str, int]:
    """Return what batches count, of a tally or a run, as run fields."""
    return {name: getattr(source, name) for name in BATCH_COUNTS}
