"""The night's lease: one run at a time for any date, taken over once expired; a batch failing every try stops the run."""

import datetime

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import CreditLine
from backoffice.celery import app
from backoffice.night import dunning_run, night_open
from backoffice.night import tasks as _registered  # noqa: F401 - the night's tasks, as a worker's autodiscovery finds them
from backoffice.night.steps import STEPS, batch_do
from cases.choices import BatchStatus, RunStatus
from cases.dunning.lease import DunningLeaseLost, DunningRunLocked, lease_acquire, lease_renew
from cases.dunning.runs import DunningBatchFailed
from cases.models import Case, CaseTransition, DunningBatch, DunningLease, DunningRun
from tests.factories import overdue_line
from tests.test_sameday_concurrency import in_a_thread, others_wait_on_locks

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
DAY = DUE + datetime.timedelta(days=40)


def test_a_second_start_while_the_lease_is_held_is_refused_and_changes_nothing():
    overdue_line(due=DUE)
    lease_acquire(holder="other-host:7")
    with pytest.raises(DunningRunLocked, match=r"Another dunning run is in progress .*other-host:7"):
        dunning_run(as_of=DAY, batch_size=10)
    assert (DunningRun.objects.count(), Case.objects.count()) == (0, 0)
    assert DunningLease.objects.get().holder == "other-host:7"


def test_a_start_while_a_run_holds_the_lease_names_the_run():
    overdue_line(due=DUE)
    held = night_open(as_of=DAY, batch_size=10)
    with pytest.raises(DunningRunLocked, match=f"run {held.pk}, held by"):
        dunning_run(as_of=DAY - datetime.timedelta(days=1), batch_size=10)
    assert DunningRun.objects.get().status == RunStatus.RUNNING


def test_an_expired_lease_is_taken_over_and_its_run_marked_abandoned():
    lines = [overdue_line(due=DUE) for _line in range(4)]
    dead = night_open(as_of=DAY, batch_size=2)  # opened, then its process died: the lease is no longer renewed
    DunningLease.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    run = dunning_run(as_of=DAY, batch_size=2)
    dead.refresh_from_db()
    assert (dead.status, run.status, run.opened) == (RunStatus.ABANDONED, RunStatus.FINISHED, len(lines))
    # What the dead run had queued finds it abandoned and does nothing.
    leftover = DunningBatch.objects.filter(run=dead).first()
    assert batch_do(batch_id=leftover.pk, worker="late-worker").size == 0
    assert DunningBatch.objects.get(pk=leftover.pk).status == BatchStatus.PENDING
    with pytest.raises(DunningLeaseLost):
        lease_renew(run_id=dead.pk)
    assert DunningLease.objects.get().holder == ""


def test_a_run_records_each_batch_and_each_step_and_the_same_date_again_changes_nothing():
    for _line in range(5):
        overdue_line(due=DUE)
    first = dunning_run(as_of=DAY, batch_size=2)
    assert list(DunningBatch.objects.filter(run=first).values_list("status", flat=True)) == [BatchStatus.DONE] * 3
    assert (first.steps_done, first.step, first.opened) == (len(STEPS), "", 5)
    before = (
        sorted(Case.objects.values_list("credit_line_id", "stage", "days_past_due", "balance_fen", "queue_rank")),
        sorted(CaseTransition.objects.values_list("case__credit_line_id", "from_stage", "to_stage", "reason")),
    )
    again = dunning_run(as_of=DAY, batch_size=2)
    after = (
        sorted(Case.objects.values_list("credit_line_id", "stage", "days_past_due", "balance_fen", "queue_rank")),
        sorted(CaseTransition.objects.values_list("case__credit_line_id", "from_stage", "to_stage", "reason")),
    )
    assert after == before
    assert (again.status, again.opened, again.escalated_collection, again.escalated_legal) == ("finished", 0, 0, 0)


def test_a_batch_failing_every_try_stops_the_run_naming_its_range(on_postgres, settings):
    settings.DUNNING_BATCH_RETRY_SECONDS = 0
    lines = [overdue_line(due=DUE) for _line in range(6)]
    # A real failure in the database: the case table refuses a case for one line (the test's transaction drops it).
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_case() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'no case for line %', NEW.credit_line_id; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_case BEFORE INSERT ON {Case._meta.db_table} FOR EACH ROW "
            f"WHEN (NEW.credit_line_id = {lines[3].pk}) EXECUTE FUNCTION refuse_case()"
        )
    with pytest.raises(DunningBatchFailed, match=f"Credit lines {lines[2].pk}–{lines[3].pk} failed 3 times"):
        dunning_run(as_of=DAY, batch_size=2)
    run = DunningRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert f"Credit lines {lines[2].pk}–{lines[3].pk} failed 3 times" in run.error
    assert "no case for line" in run.error
    batches = list(DunningBatch.objects.filter(run=run).values_list("status", "attempts"))
    assert batches == [(BatchStatus.DONE, 1), (BatchStatus.FAILED, 3), (BatchStatus.PENDING, 0)]
    assert DunningLease.objects.get().holder == ""  # the next start is not refused


def test_the_task_named_backoffice_night_start_runs_the_night_of_today_through_the_chain_of_tasks(
    django_capture_on_commit_callbacks,
):
    overdue_line(due=timezone.localdate() - datetime.timedelta(days=40))
    # No broker here: each task runs eagerly, each queuing the next on commit, as a worker would.
    with django_capture_on_commit_callbacks(execute=True):
        app.tasks["backoffice.night.start"].delay()
    run = DunningRun.objects.get()
    assert (run.as_of, run.status, run.opened, run.steps_done) == (timezone.localdate(), "finished", 1, len(STEPS))
    with django_capture_on_commit_callbacks(execute=True):
        app.tasks["backoffice.night.start"].delay(as_of=(timezone.localdate() + datetime.timedelta(days=1)).isoformat())
    assert DunningRun.objects.order_by("-pk").first().as_of == timezone.localdate() + datetime.timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_their_batches_side_by_side_not_one_after_the_other(on_postgres, shipped_data):
    """A batch locks its own row, not its run's: a second worker's batch never waits for the first to commit."""
    lines = [overdue_line(due=DUE) for _line in range(4)]
    run = night_open(as_of=DAY, batch_size=2)
    first, second = DunningBatch.objects.filter(run=run).order_by("first_id")
    assert first.first_id <= lines[0].pk <= first.last_id
    outcome: dict = {}

    def second_worker():
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # waiting on the first batch would raise LockNotAvailable
        return batch_do(batch_id=second.pk, worker="worker-b")

    with transaction.atomic():
        # A payment holds a line of the first batch: worker A's batch waits on it, its transaction open.
        list(CreditLine.objects.select_for_update().filter(pk=lines[0].pk))
        worker_a = in_a_thread(lambda: batch_do(batch_id=first.pk, worker="worker-a"), outcome, "a")
        assert others_wait_on_locks(1), "worker A's batch waits on the held line"
        worker_b = in_a_thread(second_worker, outcome, "b")
        worker_b.join(30)
        assert not isinstance(outcome.get("b"), OperationalError), outcome["b"]
        assert outcome["b"].size == 2, outcome["b"]
        assert outcome["b"].last is False
        assert DunningBatch.objects.get(pk=first.pk).status == BatchStatus.RUNNING
    worker_a.join(30)
    assert (outcome["a"].size, outcome["a"].last) == (2, True), "A commits last, so it alone moves the run on"
    assert set(DunningBatch.objects.filter(run=run).values_list("status", flat=True)) == {BatchStatus.DONE}
    assert Case.objects.count() == 4
