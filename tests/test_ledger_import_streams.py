"""A payments file applied on two connections at once gives the ledger one connection gives it (real PostgreSQL)."""

import datetime
import threading
import time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, connection, connections, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from psycopg import errors

from accounts.models import Bill, Payment, PaymentAllocation
from accounts.services import payment_post
from backoffice.kernel.bulksql import deadlocked, retried_on_deadlock
from backoffice.kernel.streams import run_in_streams, streams_possible
from backoffice.ledger_import.importing import ledger_file_import
from tests.factories import BillFactory, CustomerFactory, overdue_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.usefixtures("on_postgres")]

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
HEADER = "credit_line,external_reference,amount,channel,received_at"


def _backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_jobs_run_on_connections_of_their_own_and_a_follower_waits_for_the_job_before_it():
    mine = _backend()
    finished: list[str] = []
    first_may_finish = threading.Event()

    def job(name: str, *, hold: bool = False):
        def run():
            if hold:
                assert first_may_finish.wait(10)
            finished.append(name)
            return name, _backend()

        return run

    def release():
        first_may_finish.set()
        return "release", _backend()

    results: list[tuple[str, int]] = []
    jobs = [(job("held", hold=True), False), (release, False), (job("follower"), True)]
    run_in_streams(jobs, streams=2, on_result=results.append)
    assert finished == ["held", "follower"]
    assert sorted(name for name, _pid in results) == ["follower", "held", "release"]
    backends = {pid for _name, pid in results}
    assert len(backends) == 2
    assert mine not in backends


def test_the_first_failure_stops_the_jobs_not_yet_started_and_is_raised_in_the_callers_language():
    started: list[int] = []

    def job(number: int):
        def run():
            started.append(number)
            if number == 1:
                raise ValidationError(_("Say why the case is put on hold."))
            return number

        return run

    results: list[int] = []
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        run_in_streams(((job(number), True) for number in range(10)), streams=2, on_result=results.append)
    assert caught.value.messages == ["请说明暂停案件的原因。"]
    assert (started, results) == ([0, 1], [0])


def test_a_job_waiting_on_a_lock_lets_at_most_one_job_per_other_stream_run_past_it():
    stalled, started = threading.Event(), []

    def job(number: int):
        def run():
            started.append(number)
            if number == 0:
                assert stalled.wait(10)
            return number

        return run

    def jobs():
        for number in range(6):
            if number == 2:
                # Job 0 still waits: job 2 may not start until it has finished.
                threading.Timer(0.3, stalled.set).start()
            yield job(number), False

    finished: list[int] = []
    run_in_streams(jobs(), streams=2, on_result=finished.append)
    assert sorted(finished) == list(range(6))
    assert finished.index(0) < finished.index(2)
    assert started.index(0) < started.index(1) < started.index(2)


def test_no_job_starts_once_one_has_failed_even_with_a_stream_free():
    started: list[int] = []
    failed = threading.Event()

    def job(number: int):
        def run():
            started.append(number)
            if number == 0:
                failed.set()
                raise ValidationError("refused")
            return number

        return run

    def jobs():
        yield job(0), False
        assert failed.wait(10)
        time.sleep(0.2)  # job 0 has failed and its stream is free again
        yield job(1), False

    with pytest.raises(ValidationError):
        run_in_streams(jobs(), streams=2, on_result=lambda _result: None)
    assert started == [0]


def test_a_transaction_the_database_fails_for_a_deadlock_runs_again_and_both_sides_commit(shipped_data):
    first, second = CustomerFactory(), CustomerFactory()
    barrier, attempts = threading.Barrier(2), []

    def lock_both(one: int, other: int):
        def run():
            attempts.append(one)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT id FROM accounts_customer WHERE id = %s FOR UPDATE", [one])
                if len(attempts) <= 2:
                    barrier.wait(10)  # both hold their first row: each now waits for the other's
                cursor.execute("SELECT id FROM accounts_customer WHERE id = %s FOR UPDATE", [other])
            return one

        return run

    results: list[int] = []
    jobs = [(lambda: retried_on_deadlock(lock_both(first.pk, second.pk)), False)]
    jobs.append((lambda: retried_on_deadlock(lock_both(second.pk, first.pk)), False))
    run_in_streams(jobs, streams=2, on_result=results.append)
    assert sorted(results) == sorted([first.pk, second.pk])
    assert len(attempts) == 3  # one of the two ran again


def test_a_deadlock_is_not_retried_inside_a_callers_transaction():
    error = OperationalError("deadlock detected")
    error.__cause__ = errors.DeadlockDetected("deadlock detected")
    calls = []

    def run():
        calls.append(1)
        raise error

    with transaction.atomic(), pytest.raises(OperationalError):
        retried_on_deadlock(run)
    assert calls == [1]
    assert deadlocked(error)


def test_inside_a_transaction_there_is_one_stream():
    assert streams_possible(2) == 2
    with transaction.atomic():
        assert streams_possible(2) == 1


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_two_streams_allocate_a_file_as_one_stream_does_even_where_a_line_fills_more_than_a_batch(shipped_data):
    def portfolio():
        lines = []
        for number in range(6):
            line = overdue_line(due=datetime.date(2026, 1, 10), principal_fen=30_000 + 1_000 * number)
            BillFactory(credit_line=line, due_date=datetime.date(2026, 2, 10), principal_due_fen=50_000)
            lines.append(line)
        return lines

    def file_of(lines, prefix: str) -> bytes:
        rows = [HEADER]
        # Line 0 has 7 payments, more than a batch of 3: it is split, and its rows come in reverse time order.
        for minute in reversed(range(7)):
            rows.append(f"{lines[0].number},{prefix}-0-{minute},120.00,alipay,2026-03-19 09:{minute:02d}")
        for index, line in enumerate(lines[1:], start=1):
            for minute in range(index % 3 + 1):
                rows.append(f"{line.number},{prefix}-{index}-{minute},150.00,alipay,2026-03-19 10:{minute:02d}")
        return "\n".join(rows).encode()

    def ledger(lines, prefix: str):
        allocations = PaymentAllocation.objects.filter(bill__credit_line__in=lines).order_by("id")
        index = {line.pk: number for number, line in enumerate(lines)}
        shares = [
            (
                index[a.bill.credit_line_id],
                a.bill.due_date,
                a.payment.external_reference.removeprefix(prefix),
                a.principal_fen,
            )
            for a in allocations.select_related("bill", "payment")
        ]
        bills = Bill.objects.filter(credit_line__in=lines).order_by("credit_line_id", "due_date")
        return sorted(shares), [(index[b.credit_line_id], b.due_date, b.principal_paid_fen) for b in bills]

    one, two = portfolio(), portfolio()
    single = ledger_file_import(data=file_of(one, "S"), kind="payments", actor=None, batch_size=3, streams=1)
    double = ledger_file_import(data=file_of(two, "D"), kind="payments", actor=None, batch_size=3, streams=2)
    assert single.counts == double.counts
    assert double.counts["recorded"] == 7 + 2 + 3 + 1 + 2 + 3
    assert ledger(one, "S") == ledger(two, "D")
    # Line 0's seven payments of 120 yuan go oldest bill first in the order received: 09:00 and 09:01
    # pay 240 of its 300-yuan bill, 09:02 the last 60 (and 60 of the next bill), whatever batch each is in.
    oldest = PaymentAllocation.objects.filter(bill__credit_line=two[0], bill__due_date=datetime.date(2026, 1, 10))
    assert sorted(oldest.values_list("payment__external_reference", flat=True)) == ["D-0-0", "D-0-1", "D-0-2"]


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_a_batch_refused_on_two_streams_stops_the_import_and_counts_the_rows_the_committed_batches_kept(
    shipped_data,
):
    lines = [overdue_line(due=datetime.date(2026, 1, 10)) for _ in range(10)]
    rows = [HEADER] + [f"{line.number},R-{index},10.00,alipay,2026-03-19 09:00" for index, line in enumerate(lines)]
    seen = []

    def applied(count: int) -> None:
        if not seen:  # after the first batch: the last line's reference is taken for another payment
            payment_post(
                credit_line=lines[-1],
                external_reference="R-9",
                amount="99.00",
                channel="alipay",
                received_at=datetime.datetime(2026, 3, 19, 8, tzinfo=BEIJING),
            )
        seen.append(count)

    with pytest.raises(ValidationError) as caught:
        ledger_file_import(
            data="\n".join(rows).encode(), kind="payments", actor=None, batch_size=2, streams=2, on_applied=applied
        )
    kept = Payment.objects.filter(external_reference__startswith="R-").exclude(external_reference="R-9").count()
    (message,) = caught.value.messages
    assert message.endswith(f"The {kept} rows imported by the batches that committed are kept.")
    assert "rows 10, 11" in message  # the last batch: the file's rows 10 and 11
    assert kept == sum(seen) == 8
    assert Payment.objects.get(external_reference="R-9").amount_fen == 9_900


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_the_import_connection_lost_mid_file_is_the_error_shown_not_the_staging_tables_cleanup(shipped_data):
    lines = [overdue_line(due=datetime.date(2026, 1, 10)) for _ in range(6)]
    rows = [HEADER] + [f"{line.number},L-{index},10.00,alipay,2026-03-19 09:00" for index, line in enumerate(lines)]
    importing = _backend()

    def applied(_count: int) -> None:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [importing])
        finally:
            other.close()

    with pytest.raises(DatabaseError) as caught:
        ledger_file_import(
            data="\n".join(rows).encode(), kind="payments", actor=None, batch_size=2, streams=1, on_applied=applied
        )
    assert "terminat" in str(caught.value)
    connection.close()
