"""A bill amended below what was paid on it: the excess moves to what the line still owes, and every sum holds."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Bill, Payment, PaymentAllocation
from accounts.services import bill_upsert, payment_post, payment_reverse
from tests.factories import BillFactory, CreditLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_the_day_of_the_amendment():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC), tick=False):
        yield


D = datetime.date
JAN, FEB, MAR = D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10)
AMENDED_ON = D(2026, 3, 1)
PARTS = ("fees", "interest", "principal")


@pytest.fixture
def line():
    line = CreditLineFactory()
    for due in (JAN, FEB, MAR):
        BillFactory(credit_line=line, due_date=due, principal_due_fen=10_000, interest_due_fen=300, fees_due_fen=200)
    return line


def pay(line, amount, reference, day):
    moment = timezone.make_aware(datetime.datetime(day.year, day.month, day.day, 12))
    return payment_post(
        credit_line=line, external_reference=reference, amount=amount, channel="alipay", received_at=moment
    )


def amend(line, due_date, principal, reason="本金更正", **extra):
    amounts = {"principal_due": principal, "interest_due": "3.00", "fees_due": "2.00"}
    return bill_upsert(credit_line=line, due_date=due_date, amounts=amounts, reason=reason, **extra)[0]


def bills(line):
    return {bill.due_date: bill for bill in Bill.objects.filter(credit_line=line)}


def paid(bill):
    return tuple(getattr(bill, f"{part}_paid_fen") for part in PARTS)


def moved_rows(payment):
    rows = payment.allocations.filter(received_on=AMENDED_ON).order_by("id")
    return [(row.bill.due_date, row.fees_fen, row.interest_fen, row.principal_fen) for row in rows]


def assert_the_ledger_sums_exactly(line):
    """Each payment's allocations and credit make its amount; each bill's allocations make what it records paid."""
    for payment in Payment.objects.filter(credit_line=line):
        allocated = sum(row.total_fen for row in payment.allocations.all())
        assert allocated + payment.unallocated_fen == payment.amount_fen, payment
    for bill in Bill.objects.filter(credit_line=line):
        sums = PaymentAllocation.objects.filter(bill=bill).aggregate(**{part: Sum(f"{part}_fen") for part in PARTS})
        assert tuple(sums[part] or 0 for part in PARTS) == paid(bill), bill
        assert bill.total_paid_fen <= bill.total_due_fen


def test_the_excess_moves_to_the_oldest_bills_that_still_owe_fees_then_interest_then_principal(line):
    january = pay(line, "105.00", "PAY-1", D(2026, 1, 20))  # January in full
    pay(line, "60.00", "PAY-2", D(2026, 2, 15))  # February's fees and interest, and 55.00 of its principal
    amended = amend(line, JAN, "40.00")
    assert (amended.principal_due_fen, paid(amended)) == (4_000, (200, 300, 4_000))
    assert moved_rows(january) == [(JAN, 0, 0, -6_000), (FEB, 0, 0, 4_500), (MAR, 200, 300, 1_000)]
    now = bills(line)
    assert (paid(now[FEB]), paid(now[MAR])) == ((200, 300, 10_000), (200, 300, 1_000))
    assert Payment.objects.get(pk=january.pk).unallocated_fen == 0
    assert_the_ledger_sums_exactly(line)


def test_the_excess_comes_off_the_latest_payments_first_and_the_earliest_is_allocated_again_first(line):
    first = pay(line, "60.00", "PAY-1", D(2026, 1, 20))
    latest = pay(line, "45.00", "PAY-2", D(2026, 1, 25))
    amend(line, JAN, "50.00")  # 50.00 of principal comes off: 45.00 from the latest, 5.00 from the first
    assert moved_rows(latest) == [(JAN, 0, 0, -4_500), (FEB, 0, 0, 4_500)]
    assert moved_rows(first) == [(JAN, 0, 0, -500), (FEB, 200, 300, 0)]
    assert_the_ledger_sums_exactly(line)


def test_what_no_bill_owes_becomes_the_payments_credit(line):
    payment = pay(line, "315.00", "PAY-1", D(2026, 2, 20))  # all three bills in full
    amend(line, FEB, "0", reason="本金减免")
    assert Payment.objects.get(pk=payment.pk).unallocated_fen == 10_000
    assert paid(bills(line)[FEB]) == (200, 300, 0)
    assert_the_ledger_sums_exactly(line)


def test_the_amendment_keeps_its_reason_and_actor_in_the_history_of_every_bill_it_touched(line, supervisor):
    pay(line, "105.00", "PAY-1", D(2026, 1, 20))
    amend(line, JAN, "40.00", reason="合同更正", actor=supervisor)
    now = bills(line)
    assert now[JAN].history.first().history_change_reason == "合同更正"
    assert now[JAN].history.first().history_user == supervisor
    assert "合同更正" in now[FEB].history.first().history_change_reason
    assert now[FEB].history.first().history_user == supervisor


def test_an_amendment_below_what_was_paid_still_needs_a_reason(line):
    pay(line, "105.00", "PAY-1", D(2026, 1, 20))
    with pytest.raises(ValidationError) as caught:
        amend(line, JAN, "40.00", reason="")
    assert "reason" in caught.value.message_dict
    assert paid(bills(line)[JAN]) == (200, 300, 10_000)
    assert PaymentAllocation.objects.count() == 1


def test_a_reversal_after_an_amendment_takes_back_the_allocations_where_they_now_stand(line):
    january = pay(line, "105.00", "PAY-1", D(2026, 1, 20))
    pay(line, "60.00", "PAY-2", D(2026, 2, 15))
    amend(line, JAN, "40.00")
    reversal = payment_reverse(
        payment=january,
        external_reference="REV-1",
        reason="charged_back",
        reversed_at=timezone.make_aware(datetime.datetime(2026, 3, 1, 15)),
        actor=None,
    )
    rows = sorted(reversal.allocations.values_list("bill__due_date", "fees_fen", "interest_fen", "principal_fen"))
    assert rows == [(JAN, -200, -300, -4_000), (FEB, 0, 0, -4_500), (MAR, -200, -300, -1_000)]
    now = bills(line)
    assert [paid(now[due]) for due in (JAN, FEB, MAR)] == [(0, 0, 0), (200, 300, 5_500), (0, 0, 0)]
    assert_the_ledger_sums_exactly(line)


def test_money_of_a_reversed_payment_is_not_moved_again(line):
    bounced = pay(line, "105.00", "PAY-1", D(2026, 1, 20))
    payment_reverse(
        payment=bounced,
        external_reference="REV-1",
        reason="bounced",
        reversed_at=timezone.make_aware(datetime.datetime(2026, 1, 22, 9)),
        actor=None,
    )
    kept = pay(line, "105.00", "PAY-2", D(2026, 1, 25))
    amend(line, JAN, "40.00")
    assert moved_rows(bounced) == []
    assert moved_rows(kept) == [(JAN, 0, 0, -6_000), (FEB, 200, 300, 5_500)]
    assert_the_ledger_sums_exactly(line)


def test_a_bill_recorded_paid_without_the_allocations_to_show_for_it_is_refused_naming_the_amount(line):
    Bill.objects.filter(credit_line=line, due_date=JAN).update(principal_paid_fen=5_000)
    with pytest.raises(ValidationError) as caught:
        amend(line, JAN, "40.00")
    assert "40.00" in caught.value.message_dict["principal_due"][0]
    assert bills(line)[JAN].principal_due_fen == 10_000
