import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.allocation import Owed, allocate
from accounts.models import Bill, Payment, PaymentAllocation
from accounts.services import payment_post
from tests.factories import BillFactory, CreditLineFactory

pytestmark = pytest.mark.django_db

NOON = timezone.make_aware(datetime.datetime(2026, 3, 1, 12, 0))


@pytest.fixture
def line():
    line = CreditLineFactory()
    BillFactory(
        credit_line=line,
        due_date=datetime.date(2026, 1, 10),
        principal_due_fen=10_000,
        interest_due_fen=300,
        fees_due_fen=200,
    )
    BillFactory(
        credit_line=line,
        due_date=datetime.date(2026, 2, 10),
        principal_due_fen=10_000,
        interest_due_fen=300,
        fees_due_fen=200,
    )
    return line


def post(line, amount, reference="PAY-1", **extra):
    extra.setdefault("channel", "alipay")
    extra.setdefault("received_at", NOON)
    return payment_post(credit_line=line, external_reference=reference, amount=amount, **extra)


def test_a_payment_goes_to_the_oldest_bill_fees_then_interest_then_principal(line):
    post(line, Decimal("3.50"))
    first, second = Bill.objects.filter(credit_line=line).order_by("due_date")
    assert (first.fees_paid_fen, first.interest_paid_fen, first.principal_paid_fen) == (200, 150, 0)
    assert second.total_paid_fen == 0
    assert first.last_paid_on == datetime.date(2026, 3, 1)


def test_a_payment_spills_into_the_next_bill_and_keeps_the_rest_as_credit(line):
    payment = post(line, "250.00")
    assert [bill.outstanding_fen for bill in Bill.objects.filter(credit_line=line).order_by("due_date")] == [0, 0]
    assert payment.unallocated_fen == 25_000 - 21_000
    allocated = sum(allocation.total_fen for allocation in payment.allocations.all())
    assert allocated + payment.unallocated_fen == payment.amount_fen


def test_a_replayed_payment_is_recorded_once(line):
    first = post(line, "100.00")
    again = post(line, "100.00")
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert PaymentAllocation.objects.count() == 1
    assert Bill.objects.get(credit_line=line, due_date=datetime.date(2026, 1, 10)).total_paid_fen == 10_000


def test_the_same_reference_for_a_different_amount_is_refused(line):
    post(line, "100.00")
    with pytest.raises(ValidationError) as caught:
        post(line, "120.00")
    assert "PAY-1" in caught.value.message_dict["external_reference"][0]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("-5.00", "-5.00"), ("0", "0"), ("1.234", "1.234"), ("abc", "abc"), (12.5, "12.5")],
)
def test_a_bad_amount_is_refused_naming_the_field_and_value_and_nothing_is_written(line, amount, shown):
    with pytest.raises(ValidationError) as caught:
        post(line, amount)
    assert shown in caught.value.message_dict["amount"][0]
    assert Payment.objects.count() == 0
    assert Bill.objects.filter(credit_line=line, last_paid_on__isnull=False).count() == 0


def test_a_naive_time_and_an_unknown_channel_are_refused_by_name(line):
    with pytest.raises(ValidationError) as caught:
        post(line, "1.00", channel="cash", received_at=datetime.datetime(2026, 3, 1, 12, 0))
    assert set(caught.value.message_dict) == {"channel", "received_at"}
    assert "cash" in caught.value.message_dict["channel"][0]


def test_allocation_sums_exactly_for_any_split():
    owed = [Owed(1, 333, 1, 10_001), Owed(2, 7, 0, 99)]
    for amount in (1, 333, 334, 10_335, 10_441, 10_442, 50_000):
        shares, credit = allocate(amount, owed)
        assert sum(share.total_fen for share in shares) + credit == amount
        assert credit == max(0, amount - 10_441)
