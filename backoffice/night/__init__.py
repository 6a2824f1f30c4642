"""The night: everything the daily dunning run does, in order, in one place (``steps.STEPS``).

Promises are judged, paid settlements close their cases and placements that may no longer stand
are recalled; then the batches open, escalate and resolve cases line by line; the new and
escalated cases are shared out among the stage teams; the day's messages to customers are
planned (``send_messages`` or the workers send them); the letters the policies call for
are drafted (``render_letters`` renders them); last, what the reports read is written for the
date. All of it under one lease (``cases.dunning.lease``), so two nights never overlap, and each
step is idempotent, so a night killed anywhere and started again ends where an uninterrupted one
would.

Two ways to run the same steps: ``dunning_run`` here, in this process, one step after the other
(the embedded default, ``run_dunning``, ``make run``); or, with a broker, ``night_open`` opens the
run and the Celery tasks of ``backoffice.night.tasks`` chain the steps and spread the batches over
the workers.

This package composes the apps (it imports collections and letters) and no app imports it.
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from backoffice.night.steps import BATCHES, STEPS, batch_do, batches_none, step_run, thresholds_now, worker_name
from cases.choices import RunStatus
from cases.dunning.models import DunningRun
from cases.dunning.runs import batches_left, run_close, run_open


def broker_mode() -> bool:
    """Return whether the night runs through the broker (a broker is set and tasks are not run eagerly)."""
    return bool(settings.CELERY_BROKER_URL) and not settings.CELERY_TASK_ALWAYS_EAGER


def night_open(
    *, as_of: datetime.date, batch_size: int, dry_run: bool = False, actor: AbstractBaseUser | None = None
) -> DunningRun:
    """Take the lease and record the run with its batches; raise ``DunningRunLocked`` if one is running."""
    return run_open(as_of=as_of, dry_run=dry_run, actor=actor, batch_size=batch_size, holder=worker_name())


def _batches_here(run: DunningRun, on_batch: Callable[[int], None] | None) -> None:
    left, thresholds = batches_left(run_id=run.pk), thresholds_now()
    if not left:
        batches_none(run.pk)
    for batch_id in left:
        size = batch_do(batch_id=batch_id, worker=worker_name(), thresholds=thresholds)
        if on_batch and size:
            on_batch(size)


def dunning_run(
    *,
    as_of: datetime.date,
    batch_size: int,
    dry_run: bool = False,
    actor: AbstractBaseUser | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> DunningRun:
    """Run the night for ``as_of`` over every credit line, in this process; raise ``DunningRunLocked`` if one is running.

    ``on_batch`` is called with the number of credit-line ids each finished batch covered. A dry
    run counts what the promises and the batches would do and writes nothing but its own record.
    """
    run = night_open(as_of=as_of, batch_size=batch_size, dry_run=dry_run, actor=actor)
    try:
        for index, step in enumerate(STEPS):
            if step.name == BATCHES:
                _batches_here(run, on_batch)
            else:
                step_run(run_id=run.pk, index=index)
    except BaseException as exc:
        run_close(run_id=run.pk, status=RunStatus.FAILED, error=DunningRun.objects.get(pk=run.pk).error or repr(exc))
        raise
    return run_close(run_id=run.pk, status=RunStatus.FINISHED) or DunningRun.objects.get(pk=run.pk)
