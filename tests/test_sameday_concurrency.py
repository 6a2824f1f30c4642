"""The night and a payment on the same line at once, on a real PostgreSQL: the case ends showing the payment.

The night's batch reads its lines' bills and cases, plans, then writes; a payment brings its line's
case up to date in its own transaction. Each holds the line's row lock from before its read until
it commits, so whichever comes second reads what the first wrote. (SQLite's write transactions
exclude each other whole, so it cannot show the race.)
"""

import datetime
import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.services import payment_post
from backoffice.night import dunning_run
from backoffice.sameday import lines_refresh
from cases.choices import Stage
from cases.models import Case, DunningPolicy
from tests.factories import overdue_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

DUE = datetime.date(2026, 3, 1)
CST = datetime.timezone(datetime.timedelta(hours=8))
WAIT = 30


def day(dpd: int) -> datetime.date:
    return DUE + datetime.timedelta(days=dpd)


def others_wait_on_locks(count: int = 1) -> bool:
    """Return whether ``count`` other connections to the test database wait on a lock, within ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction, pg_stat_activity would show the first look again and again.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return True
            time.sleep(0.05)
    return False


def in_a_thread(work, outcome: dict, name: str) -> threading.Thread:
    def run():
        try:
            outcome[name] = work()
        except Exception as exc:
            outcome[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def pay_and_refresh(line, amount: str, on: datetime.date) -> None:
    """Record a payment and bring its line's case up to date in one transaction, as the payments API does."""
    payment_post(
        credit_line=line,
        external_reference=f"PAY-{line.pk}",
        amount=amount,
        channel="alipay",
        received_at=datetime.datetime.combine(on, datetime.time(10), tzinfo=CST),
    )
    lines_refresh(line_ids=[line.pk], as_of=on)


def the_night_runs_while_a_payment_is_in_flight(line, amount: str, on: datetime.date) -> dict:
    """Run the night for the day of a payment while the payment's transaction is still open; let the
    payment commit once the night waits on it.

    Without a lock held from before the night's read, the night reads the line as it was before
    the payment, waits only to write the case, and then writes what it read.
    """
    posted, release, outcome = threading.Event(), threading.Event(), {}

    def pay():
        with transaction.atomic():
            pay_and_refresh(line, amount, on)
            posted.set()
            assert release.wait(WAIT), "the payment was never let through"
        return "committed"

    payment = in_a_thread(pay, outcome, "payment")
    assert posted.wait(WAIT), outcome
    night = in_a_thread(lambda: dunning_run(as_of=on, batch_size=100), outcome, "night")
    try:
        assert others_wait_on_locks(), "the night never waited on the payment"
    finally:
        release.set()
        payment.join(WAIT)
        night.join(WAIT)
    assert outcome["payment"] == "committed", outcome
    assert not isinstance(outcome["night"], Exception), outcome
    return outcome


def test_a_night_batch_that_meets_a_part_payment_leaves_the_case_with_the_balance_after_the_payment(
    on_postgres, shipped_data
):
    line = overdue_line(due=DUE)  # 1,000.00 due
    dunning_run(as_of=day(5), batch_size=100)
    assert Case.objects.get(credit_line=line).balance_fen == 100_000

    the_night_runs_while_a_payment_is_in_flight(line, "300.00", day(6))

    case = Case.objects.get(credit_line=line)
    assert (case.stage, case.days_past_due, case.balance_fen) == (Stage.REMINDER, 6, 70_000)


def test_a_night_batch_that_meets_a_payment_in_full_opens_no_case_on_the_paid_line(on_postgres, shipped_data):
    line = overdue_line(due=DUE)

    the_night_runs_while_a_payment_is_in_flight(line, "1000.00", day(6))

    assert not Case.objects.filter(credit_line=line).exists()


@pytest.mark.parametrize("freezing", [True, False], ids=["policy-freezes-the-line", "policy-does-not-freeze"])
def test_a_payment_that_meets_a_night_batch_waits_for_it_and_its_refresh_shows_the_payment(
    on_postgres, shipped_data, freezing
):
    line = overdue_line(due=DUE)
    DunningPolicy.objects.filter(pk=line.product.policy_id).update(freeze_line_on_collection=freezing)
    dunning_run(as_of=day(30), batch_size=100)
    case = Case.objects.get(credit_line=line)
    outcome = {}
    with transaction.atomic():
        # Hold the case as a batch busy with many lines would still be: the night, at day 31,
        # escalates it to collection and waits here to write it, its read made.
        Case.objects.select_for_update(no_key=True).get(pk=case.pk)
        night = in_a_thread(lambda: dunning_run(as_of=day(31), batch_size=100), outcome, "night")
        assert others_wait_on_locks(1), "the night never came to write the case"
        # Without the night's lock on the line, the payment goes through and its refresh, which read
        # the case in reminder, queues behind the night to escalate it too. Then either the night,
        # freezing the line the payment holds, deadlocks with it, or the refresh's move finds the
        # case moved and is left alone, and the case keeps the balance the night read.
        payment = in_a_thread(lambda: pay_and_refresh(line, "300.00", day(31)), outcome, "payment")
        assert others_wait_on_locks(2), "the payment never waited"
    night.join(WAIT)
    payment.join(WAIT)
    assert not [result for result in outcome.values() if isinstance(result, Exception)], outcome

    case.refresh_from_db()
    assert (case.stage, case.days_past_due, case.balance_fen) == (Stage.COLLECTION, 31, 70_000)
