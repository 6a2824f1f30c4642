"""Reversals racing on a real PostgreSQL: a payment is reversed once, whichever request comes first."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Bill, Payment, PaymentAllocation
from accounts.services import bill_upsert, payment_post, payment_reverse
from tests.cases.casework.test_concurrency import race
from tests.factories import BillFactory, overdue_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

DUE = datetime.date(2026, 1, 10)


def reverser(payment_id: int, reference: str):
    def reverse(barrier):
        payment = Payment.objects.get(pk=payment_id)
        barrier.wait()
        return payment_reverse(
            payment=payment, external_reference=reference, reason="bounced", reversed_at=timezone.now(), actor=None
        )

    return reverse


def paid_line():
    line = overdue_line(due=DUE)
    payment = payment_post(
        credit_line=line, external_reference="P-1", amount="400.00", channel="alipay", received_at=timezone.now()
    )
    return line, payment


def test_two_reversals_of_one_payment_at_once_record_one_and_refuse_the_other_naming_the_payment(
    on_postgres, shipped_data
):
    line, payment = paid_line()
    results = race(reverser(payment.pk, "R-1"), reverser(payment.pk, "R-2"))
    winners = [r for r in results if isinstance(r, Payment)]
    losers = [r for r in results if isinstance(r, ValidationError)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert "was already reversed" in losers[0].message_dict["payment"][0]
    assert Payment.objects.filter(reversal_of=payment).count() == 1
    assert Bill.objects.get(credit_line=line).principal_paid_fen == 0


def test_the_same_reversal_sent_twice_at_once_is_recorded_once(on_postgres, shipped_data):
    line, payment = paid_line()
    results = race(reverser(payment.pk, "R-1"), reverser(payment.pk, "R-1"))
    assert [type(r) for r in results] == [Payment, Payment], results
    assert results[0].pk == results[1].pk
    assert PaymentAllocation.objects.filter(payment__external_reference="R-1").count() == 1
    assert Bill.objects.get(credit_line=line).principal_paid_fen == 0


def test_an_amendment_racing_a_reversal_leaves_every_sum_exact(on_postgres, shipped_data):
    line, payment = paid_line()
    BillFactory(credit_line=line, due_date=datetime.date(2026, 2, 10), interest_due_fen=0, fees_due_fen=0)

    def amend(barrier):
        barrier.wait()
        return bill_upsert(
            credit_line=line, due_date=DUE, amounts={"principal_due": "100.00"}, reason="更正", actor=None
        )

    results = race(reverser(payment.pk, "R-1"), amend)
    assert not [r for r in results if isinstance(r, Exception)], results
    for one in Payment.objects.all():
        allocated = sum(row.total_fen for row in one.allocations.all())
        assert allocated + one.unallocated_fen == one.amount_fen
    for bill in Bill.objects.filter(credit_line=line):
        rows = PaymentAllocation.objects.filter(bill=bill)
        assert sum(row.principal_fen for row in rows) == bill.principal_paid_fen
    assert sum(bill.total_paid_fen for bill in Bill.objects.filter(credit_line=line)) == 0
