"""The night's steps, defined once: the in-process night and the Celery chain both run this list.

Each step takes the run, calls one service and returns the counts it records on the run. The
run's step marker (``steps_done``) says which step is next; a step is recorded done, with its
counts, by a compare-and-set on that marker, so a redelivered task finds its step past and does
not repeat it. (A worker killed between a step's end and its marker runs that step again: every
step is idempotent, so the night still ends where an uninterrupted one would.)
"""

import dataclasses
import logging
import os
import socket
import time
from collections.abc import Callable

from django.conf import settings

from backoffice.reports.aggregate import reports_aggregate
from cases.agencies.services import placements_recall_ended
from cases.choices import NightStep
from cases.dunning.batch import Tally, load_thresholds, refresh_statistics
from cases.dunning.lease import lease_renew
from cases.dunning.models import DunningRun
from cases.dunning.plan import Thresholds
from cases.dunning.runs import (
    DunningBatchFailed,
    batch_attempt_failed,
    batch_claim,
    batch_execute,
    run_step_done,
    tally_counts,
)
from cases.outreach.plan import messages_plan
from cases.promises.judging import promises_judge
from cases.settlements.services import settlements_complete
from cases.workload.share_out import assign_by_teams
from letters.services import letters_draft_due

logger = logging.getLogger(__name__)

BATCHES = NightStep.BATCHES.value


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the night: its name (the marker; its label is the choice's), its work, whether a dry run does it."""

    name: str
    work: Callable[[DunningRun], dict[str, int]] | None
    in_dry_run: bool = False


def _promises(run: DunningRun) -> dict[str, int]:
    judged = promises_judge(as_of=run.as_of, dry_run=run.dry_run)
    return {"promises_kept": judged["kept"], "promises_broken": judged["broken"]}


def _statistics(run: DunningRun) -> dict[str, int]:
    refresh_statistics(Tally(**tally_counts(run)))
    return {}


def _aggregates(run: DunningRun) -> dict[str, int]:
    reports_aggregate(as_of=run.as_of)
    return {}


STEPS: tuple[Step, ...] = (
    Step(NightStep.PROMISES, _promises, in_dry_run=True),
    Step(NightStep.SETTLEMENTS, lambda run: {"settlements_completed": settlements_complete()}),
    Step(NightStep.RECALLS, lambda run: {"recalled": placements_recall_ended(as_of=run.as_of)}),
    Step(NightStep.BATCHES, None, in_dry_run=True),
    # Once every batch has committed: the share-out sees every new and escalated case.
    Step(NightStep.SHARE_OUT, lambda run: {"assigned": assign_by_teams(run=run)}),
    Step(NightStep.STATISTICS, _statistics),
    Step(
        NightStep.MESSAGES,
        lambda run: {"messages_planned": messages_plan(as_of=run.as_of, batch_size=settings.DUNNING_BATCH_SIZE)},
    ),
    Step(NightStep.LETTERS, lambda run: {"letters_drafted": letters_draft_due(as_of=run.as_of)}),
    # Last, after messages and letters, not straight after the share-out: what the reports read is
    # the night's whole outcome, the day's cases, teams and letters included, and keeping it where
    # it always ran keeps every figure the reports (and their tests) had for a night.
    Step(NightStep.AGGREGATES, _aggregates),
)
BATCHES_INDEX = next(index for index, step in enumerate(STEPS) if step.name == BATCHES)


def _next_name(index: int) -> str:
    return STEPS[index + 1].name if index + 1 < len(STEPS) else ""


def step_run(*, run_id: int, index: int) -> bool:
    """Do step ``index`` of the run unless its marker is past it; return whether the marker moved on.

    Renews the run's lease before and after, so a long step keeps it.
    """
    run = DunningRun.objects.get(pk=run_id)
    if run.steps_done != index:
        return False
    lease_renew(run_id=run_id)
    step = STEPS[index]
    counts = step.work(run) if step.work and (step.in_dry_run or not run.dry_run) else {}
    moved = run_step_done(run_id=run_id, index=index, next_step=_next_name(index), counts=counts)
    lease_renew(run_id=run_id)
    return moved


def batches_done(run: DunningRun, tally: Tally) -> None:
    """Move the run past its batches, with their sum: called once, by the batch that commits last."""
    run_step_done(run_id=run.pk, index=BATCHES_INDEX, next_step=_next_name(BATCHES_INDEX), counts=tally_counts(tally))


def batches_none(run_id: int) -> bool:
    """Move a run with no batch at all (no credit line) past its batches; return whether it moved."""
    return run_step_done(run_id=run_id, index=BATCHES_INDEX, next_step=_next_name(BATCHES_INDEX), counts={})


def worker_name() -> str:
    """Return this process's name as a batch records it when it is not a Celery worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclasses.dataclass
class BatchOutcome:
    """What one batch task did: how many credit-line ids it covered (0 if it found nothing to do), and whether it was the last."""

    size: int = 0
    last: bool = False


def batch_do(*, batch_id: int, worker: str, thresholds: dict[int, Thresholds] | None = None) -> BatchOutcome:
    """Run one batch, trying it up to ``DUNNING_BATCH_ATTEMPTS`` times; return what it did.

    Attempts are counted on the batch's row, so a worker killed mid-batch counts as one too. After
    the last failed attempt the run stops as failed, naming the range, and ``DunningBatchFailed`` is raised.
    """
    outcome = BatchOutcome()

    def last(run: DunningRun, tally: Tally) -> None:
        batches_done(run, tally)
        outcome.last = True

    while (batch := batch_claim(batch_id=batch_id, worker=worker)) is not None:
        try:
            tally = batch_execute(batch_id=batch_id, thresholds=thresholds, on_last=last)
        except Exception as exc:
            logger.exception("Dunning run %s: credit lines %s–%s failed", batch.run_id, batch.first_id, batch.last_id)
            if batch_attempt_failed(
                batch_id=batch_id, error=repr(exc), attempts_allowed=settings.DUNNING_BATCH_ATTEMPTS
            ):
                raise DunningBatchFailed(DunningRun.objects.get(pk=batch.run_id).error) from exc
            # Backing off before the next try: what failed may be a moment's contention.
            time.sleep(settings.DUNNING_BATCH_RETRY_SECONDS * 2 ** (batch.attempts - 1))
            continue
        lease_renew(run_id=batch.run_id)
        outcome.size = 0 if tally is None else batch.last_id - batch.first_id + 1
        break
    return outcome


def thresholds_now() -> dict[int, Thresholds]:
    """Return the policies' thresholds, read once for all the batches one process runs."""
    return load_thresholds()
