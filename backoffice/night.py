"""The night: everything the daily dunning run does, in order, in one place.

Promises are judged, paid settlements close their cases and placements that may no longer stand
are recalled; then the batches open, escalate and resolve cases line by line; the new and
escalated cases are shared out among the stage teams; the day's messages to customers are
planned (``send_messages`` or the workers send them); the letters the policies call for
are drafted (``render_letters`` renders them); last, what the reports read is written for the
date. All of it under one lock, so two nights never overlap, and each step is idempotent, so a night killed anywhere and started again ends where
an uninterrupted one would.

This module composes the apps (it imports collections and letters) and no app imports it.
"""

import datetime
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from backoffice.reports.aggregate import reports_aggregate
from cases.agencies.services import placements_recall_ended
from cases.choices import RunStatus
from cases.dunning.batch import Tally, refresh_statistics, run_batches, run_finish, run_start
from cases.dunning.lock import dunning_lock
from cases.dunning.models import DunningRun
from cases.outreach.plan import messages_plan
from cases.promises.judging import promises_judge
from cases.settlements.services import settlements_complete
from cases.workload.share_out import assign_by_teams
from letters.services import letters_draft_due


def _before_batches(tally: Tally, as_of: datetime.date, dry_run: bool) -> None:
    judged = promises_judge(as_of=as_of, dry_run=dry_run)
    tally.promises_kept, tally.promises_broken = judged["kept"], judged["broken"]
    if not dry_run:
        tally.settlements_completed = settlements_complete()
        tally.recalled = placements_recall_ended(as_of=as_of)


def _after_batches(tally: Tally, run: DunningRun, as_of: datetime.date) -> None:
    # Once every batch has committed: the share-out sees every new and escalated case.
    tally.assigned = assign_by_teams(run=run)
    refresh_statistics(tally)
    tally.messages_planned = messages_plan(as_of=as_of, batch_size=settings.DUNNING_BATCH_SIZE)
    tally.letters_drafted = letters_draft_due(as_of=as_of)
    # Last: what the reports read is the night's outcome, the day's cases, teams and letters included.
    reports_aggregate(as_of=as_of)


def dunning_run(
    *,
    as_of: datetime.date,
    batch_size: int,
    dry_run: bool = False,
    actor: AbstractBaseUser | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> DunningRun:
    """Run the night for ``as_of`` over every credit line; raise ``DunningRunLocked`` if one is running.

    ``on_batch`` is called with the number of credit-line ids each finished batch covered. A dry
    run counts what the promises and the batches would do and writes nothing but its own record.
    """
    with dunning_lock():
        run = run_start(as_of=as_of, dry_run=dry_run, actor=actor)
        started, tally = time.perf_counter(), Tally()
        try:
            _before_batches(tally, as_of, dry_run)
            batches = run_batches(run=run, as_of=as_of, batch_size=batch_size, dry_run=dry_run, on_batch=on_batch)
            tally += batches
            if not dry_run:
                _after_batches(tally, run, as_of)
        except BaseException as exc:
            run_finish(
                run=run, tally=tally, seconds=time.perf_counter() - started, status=RunStatus.FAILED, error=repr(exc)
            )
            raise
        return run_finish(run=run, tally=tally, seconds=time.perf_counter() - started, status=RunStatus.FINISHED)
