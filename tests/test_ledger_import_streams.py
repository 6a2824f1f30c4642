"""A payments file applied on two connections at once gives the ledger one connection gives it (real PostgreSQL)."""

import datetime
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Bill, PaymentAllocation
from backoffice.kernel.streams import run_in_streams, streams_possible
from backoffice.ledger_import.importing import ledger_file_import
from tests.factories import BillFactory, overdue_line

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
