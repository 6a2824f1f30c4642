"""Reversals of payments in the ledger: their own row, the negatives of the original, netted out everywhere."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Bill, Payment, PaymentAllocation
from accounts.positions import credit_line_position, line_balance, paid_fen, payments_since
from accounts.services import payment_post, payment_reverse
from backoffice.kernel.events import Event, EventType
from tests.factories import BillFactory, CreditLineFactory

pytestmark = pytest.mark.django_db

D = datetime.date
PAID_ON, REVERSED_ON = D(2026, 1, 20), D(2026, 2, 25)


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def line():
    line = CreditLineFactory()
    for due in (D(2026, 1, 10), D(2026, 2, 10)):
        BillFactory(credit_line=line, due_date=due, principal_due_fen=10_000, interest_due_fen=300, fees_due_fen=200)
    return line


def pay(line, amount, reference, day=PAID_ON):
    return payment_post(
        credit_line=line, external_reference=reference, amount=amount, channel="alipay", received_at=at(day)
    )


def reverse(payment, reference="REV-1", day=REVERSED_ON, **extra):
    extra.setdefault("reason", "bounced")
    extra.setdefault("actor", None)
    return payment_reverse(payment=payment, external_reference=reference, reversed_at=at(day), **extra)


def paid_per_bill(line):
    return [bill.total_paid_fen for bill in Bill.objects.filter(credit_line=line).order_by("due_date")]


def sums_exactly(payment):
    allocated = payment.allocations.aggregate(total=Sum("fees_fen") + Sum("interest_fen") + Sum("principal_fen"))[
        "total"
    ]
    return (allocated or 0) + payment.unallocated_fen == payment.amount_fen


def test_a_reversal_is_its_own_row_with_the_negatives_of_the_payment_dated_at_the_reversal(line, supervisor):
    payment = pay(line, "250.00", "PAY-1")  # both bills in full, 40.00 left as credit
    reversal = reverse(payment, actor=supervisor, note="退票")
    assert (reversal.amount_fen, reversal.unallocated_fen, reversal.reversal_of) == (-25_000, -4_000, payment)
    assert (reversal.reversal_reason, reversal.reversal_note, reversal.received_on) == (
        "bounced",
        "退票",
        D(2026, 2, 25),
    )
    rows = sorted(reversal.allocations.values_list("bill__due_date", "fees_fen", "interest_fen", "principal_fen"))
    assert rows == [(D(2026, 1, 10), -200, -300, -10_000), (D(2026, 2, 10), -200, -300, -10_000)]
    assert set(reversal.allocations.values_list("received_on", flat=True)) == {D(2026, 2, 25)}
    assert paid_per_bill(line) == [0, 0]
    assert sums_exactly(payment)
    assert sums_exactly(reversal)
    assert Payment.objects.get(pk=payment.pk).reversal == reversal
    assert reversal.history.get().history_user == supervisor
    assert Bill.objects.get(credit_line=line, due_date=D(2026, 1, 10)).last_paid_on == D(2026, 2, 25)


def test_the_reversal_writes_the_payment_reversed_event(line):
    reverse(pay(line, "100.00", "PAY-1"))
    event = Event.objects.get(type=EventType.PAYMENT_REVERSED)
    assert event.credit_line_id == line.pk
    assert event.data == {"payment": "PAY-1", "reversal": "REV-1", "amount": "100.00", "reason": "bounced"}


def test_the_same_reversal_twice_is_recorded_once(line):
    payment = pay(line, "100.00", "PAY-1")
    first, again = reverse(payment), reverse(payment)
    assert first.pk == again.pk
    assert Payment.objects.count() == 2
    assert PaymentAllocation.objects.filter(payment=first).count() == 1
    assert paid_per_bill(line) == [0, 0]
    assert Event.objects.filter(type=EventType.PAYMENT_REVERSED).count() == 1


def test_a_reference_already_used_for_another_payment_is_refused_naming_it(line):
    one, other = pay(line, "100.00", "PAY-1"), pay(line, "50.00", "PAY-2")
    reverse(one)
    for reference in ("REV-1", "PAY-2"):
        with pytest.raises(ValidationError) as caught:
            reverse(other, reference=reference)
        assert repr(reference) in caught.value.message_dict["external_reference"][0]
    assert Payment.objects.count() == 3


def test_a_reversal_is_never_reversed_and_a_payment_only_once(line):
    payment = pay(line, "100.00", "PAY-1")
    reversal = reverse(payment)
    with pytest.raises(ValidationError) as caught:
        reverse(reversal, reference="REV-2")
    assert caught.value.message_dict["payment"] == ["Payment 'REV-1' is itself a reversal."]
    with pytest.raises(ValidationError) as caught:
        reverse(payment, reference="REV-3")
    assert caught.value.message_dict["payment"] == ["Payment 'PAY-1' was already reversed by 'REV-1'."]
    assert Payment.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "extra", "shown"),
    [
        ("reason", {"reason": "lost"}, "'lost'"),
        ("reversed_at", {"day": D(2026, 1, 19)}, "2026-01-19T12:00:00"),
        ("external_reference", {"reference": ""}, "''"),
        ("note", {"note": "x" * 501}, "501"),
    ],
)
def test_a_bad_reversal_is_refused_naming_the_field_and_value_and_nothing_is_written(line, field, extra, shown):
    payment = pay(line, "100.00", "PAY-1")
    with pytest.raises(ValidationError) as caught:
        reverse(payment, **extra)
    assert shown in caught.value.message_dict[field][0]
    assert Payment.objects.count() == 1
    assert paid_per_bill(line) == [10_000, 0]
    assert not Event.objects.filter(type=EventType.PAYMENT_REVERSED).exists()


def test_positions_see_the_bill_paid_until_the_reversal_and_owed_again_after(line):
    reverse(pay(line, "105.00", "PAY-1"))  # the January bill in full on 20 January, bounced on 25 February
    before = credit_line_position(credit_line=line, as_of=D(2026, 1, 25))
    paid_then = credit_line_position(credit_line=line, as_of=D(2026, 2, 24))
    after = credit_line_position(credit_line=line, as_of=D(2026, 2, 26))
    assert (before.days_past_due, before.overdue_fen) == (0, 0)
    assert (paid_then.days_past_due, paid_then.overdue_fen) == (14, 10_500)
    assert (after.days_past_due, after.overdue_fen) == (47, 21_000)
    assert line_balance(credit_line_id=line.pk, as_of=D(2026, 2, 26)).overdue.total_fen == 21_000


def test_payments_since_net_a_reversal_out(line):
    since = timezone.now()
    kept, bounced = pay(line, "30.00", "PAY-1"), pay(line, "50.00", "PAY-2")
    reverse(bounced)
    assert paid_fen(payments_since(credit_line_id=line.pk, since=since)) == 3_000
    assert list(payments_since(credit_line_id=line.pk, since=since)) == [kept]


def test_a_reversal_of_money_paid_before_the_moment_takes_nothing_from_the_payments_since(line):
    old = pay(line, "50.00", "PAY-1")
    since = timezone.now()
    reverse(old)
    assert not payments_since(credit_line_id=line.pk, since=since).exists()
    assert paid_fen(payments_since(credit_line_id=line.pk, since=since)) == 0


def test_a_payment_on_a_charged_off_line_is_reversed_and_the_line_stays_charged_off(line):
    line.status = "charged_off"
    line.save()
    reverse(pay(line, "100.00", "PAY-1"))
    line.refresh_from_db()
    assert line.status == "charged_off"
