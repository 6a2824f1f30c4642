"""Payments recorded set-wise: the same ledger as one by one, every bad row named, replays free, fixed statements."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.ingest import PaymentRow, PaymentsRefused, payments_post
from accounts.models import Bill, Payment, PaymentAllocation
from accounts.services import payment_post
from tests.factories import BillFactory, CreditLineFactory
from tests.undo import undone

pytestmark = pytest.mark.django_db

NOON = timezone.make_aware(datetime.datetime(2026, 3, 1, 12, 0))


def line_with_bills():
    line = CreditLineFactory()
    for month in (1, 2):
        BillFactory(
            credit_line=line,
            due_date=datetime.date(2026, month, 10),
            principal_due_fen=10_000,
            interest_due_fen=300,
            fees_due_fen=200,
        )
    return line


def row(line, reference, amount, minutes=0, **extra):
    return PaymentRow(
        credit_line=line.number,
        external_reference=reference,
        amount=amount,
        channel=extra.get("channel", "alipay"),
        received_at=extra.get("received_at", NOON + datetime.timedelta(minutes=minutes)),
    )


def ledger():
    bills = sorted(
        Bill.objects.values_list(
            "credit_line_id", "due_date", "fees_paid_fen", "interest_paid_fen", "principal_paid_fen", "last_paid_on"
        )
    )
    payments = sorted(
        Payment.objects.values_list("external_reference", "credit_line_id", "amount_fen", "unallocated_fen")
    )
    allocations = sorted(
        PaymentAllocation.objects.values_list(
            "payment__external_reference", "bill__due_date", "fees_fen", "interest_fen", "principal_fen", "received_on"
        )
    )
    bill_history = sorted(
        Bill.history.values_list("id", "history_type", "fees_paid_fen", "interest_paid_fen", "principal_paid_fen")
    )
    payment_history = sorted(
        Payment.history.values_list("id", "history_type", "external_reference", "amount_fen", "unallocated_fen")
    )
    return bills, payments, allocations, bill_history, payment_history


def test_a_set_leaves_the_ledger_and_its_history_as_the_same_payments_posted_one_by_one_in_received_order():
    first, second = line_with_bills(), line_with_bills()
    # Sent out of received order: each line's payments are allocated in the order they were received.
    rows = [
        row(first, "A-2", "150.00", minutes=5),
        row(second, "B-1", "20000.00"),
        row(first, "A-1", "100.00"),
        row(first, "A-3", "25000.00", minutes=9),
    ]

    def one_by_one():
        for payment in sorted(rows, key=lambda payment: payment.received_at):
            line = first if payment.credit_line == first.number else second
            payment_post(
                credit_line=line,
                external_reference=payment.external_reference,
                amount=payment.amount,
                channel=payment.channel,
                received_at=payment.received_at,
            )

    def as_a_set():
        payments_post(rows=rows, actor=None)

    by_set, by_one = undone(as_a_set, ledger), undone(one_by_one, ledger)
    assert by_set[:3] == by_one[:3]
    # History rows as one by one: the same states, one per payment and one per bill a share touched.
    assert [entry[1:] for entry in by_set[3] if entry[1] == "~"] == [
        entry[1:] for entry in by_one[3] if entry[1] == "~"
    ]
    assert len([entry for entry in by_set[3] if entry[1] == "~"]) == len(by_set[2])
    assert sorted(entry[1:] for entry in by_set[4]) == sorted(entry[1:] for entry in by_one[4])
    credit = {reference: left for reference, _line, _amount, left in by_set[1]}
    assert credit == {"A-1": 0, "A-2": 4_000, "A-3": 2_500_000, "B-1": 2_000_000 - 21_000}


def test_every_bad_row_is_named_by_index_field_and_value_and_nothing_is_written():
    line = line_with_bills()
    payments_post(rows=[row(line, "OLD", "10.00")], actor=None)
    before = ledger()
    rows = [
        row(line, "OK", "10.00"),
        PaymentRow("CL-NOBODY", "X", "10.00", "alipay", NOON),
        row(line, "NEG", "-5.00"),
        row(line, "OLD", "12.00"),
        row(line, "TWICE", "1.00"),
        row(line, "TWICE", "2.00"),
        row(line, "", "1.00", channel="cash", received_at=datetime.datetime(2026, 3, 1, 12)),
    ]
    with pytest.raises(PaymentsRefused) as refused:
        payments_post(rows=rows, actor=None)
    assert [(error.index, error.field, error.value) for error in refused.value.row_errors] == [
        (1, "credit_line", "CL-NOBODY"),
        (2, "amount", "-5.00"),
        (3, "external_reference", "OLD"),
        (5, "external_reference", "TWICE"),
        (6, "external_reference", ""),
        (6, "channel", "cash"),
        (6, "received_at", datetime.datetime(2026, 3, 1, 12)),
    ]
    assert "CL-NOBODY" in refused.value.message_dict["credit_line"][0]
    assert ledger() == before


def test_a_replayed_set_records_nothing_and_answers_with_the_payments_first_recorded():
    line = line_with_bills()
    rows = [row(line, f"R-{n}", "10.00", minutes=n) for n in range(5)]
    first = payments_post(rows=rows, actor=None)
    before = ledger()
    again = payments_post(rows=[*rows, rows[0]], actor=None)
    assert ledger() == before
    assert [payment.payment_id for payment in again] == [payment.payment_id for payment in first] + [
        first[0].payment_id
    ]
    assert not any(payment.replayed for payment in first)
    assert all(payment.replayed for payment in again)


def test_a_set_of_a_hundred_takes_no_more_statements_than_a_set_of_ten(django_assert_max_num_queries):
    lines = [line_with_bills() for _ in range(110)]
    with CaptureQueriesContext(connection) as ten:
        payments_post(rows=[row(line, f"T-{n}", "150.00") for n, line in enumerate(lines[:10])], actor=None)
    with django_assert_max_num_queries(len(ten)):
        payments_post(rows=[row(line, f"H-{n}", "150.00") for n, line in enumerate(lines[10:])], actor=None)
    assert len(ten) <= 16
    assert PaymentAllocation.objects.count() == 2 * 110  # each pays off its first bill and starts on the second


@pytest.mark.django_db(transaction=True)
def test_two_sets_sharing_references_posted_at_once_record_each_payment_once(on_postgres, shipped_data):
    lines = [line_with_bills() for _ in range(3)]
    shared = [row(line, f"S-{n}", "150.00") for n, line in enumerate(lines)]
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def post(index, rows):
        try:
            barrier.wait()
            results[index] = payments_post(rows=rows, actor=None)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=post, args=(0, shared)),
        threading.Thread(target=post, args=(1, [*reversed(shared), row(lines[0], "S-extra", "1.00")])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(result, list) for result in results), results
    assert Payment.objects.count() == 4
    replayed = [payment.replayed for result in results for payment in result if payment.external_reference != "S-extra"]
    assert sorted(replayed) == [False] * 3 + [True] * 3
    for line in lines:
        paid = sum(bill.total_paid_fen for bill in Bill.objects.filter(credit_line=line))
        assert paid == 15_000 + (100 if line == lines[0] else 0)
