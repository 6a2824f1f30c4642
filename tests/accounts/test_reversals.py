"""Reversals of payments in the ledger: their own row, the negatives of the original, netted out everywhere."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.ingest import PaymentRow, PaymentsRefused, ReversalRow, payments_post, payments_reverse
from accounts.models import Bill, Payment, PaymentAllocation
from accounts.positions import credit_line_position, line_balance, paid_fen, payments_since
from accounts.services import bill_upsert, payment_post, payment_reverse
from backoffice.kernel.events import Event, EventType
from tests.factories import BillFactory, CreditLineFactory
from tests.undo import undone

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
        ("reversed_at", {"day": D(2099, 1, 1)}, "2099-01-01T12:00:00"),
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


def test_a_reversal_time_a_few_minutes_ahead_of_the_clock_is_taken_as_clock_skew_as_for_a_payment(line):
    payment = pay(line, "100.00", "PAY-1")
    ahead = payment_reverse(
        payment=payment,
        external_reference="REV-1",
        reason="bounced",
        reversed_at=timezone.now() + datetime.timedelta(minutes=4),
        actor=None,
    )
    assert ahead.amount_fen == -10_000


def ordered(rows):
    # By their text: dates and reasons may be NULL.
    return sorted(rows, key=repr)


def the_ledger():
    """Everything a reversal writes, by reference and bill, without the ids and times that differ between runs."""
    bills = ordered(
        Bill.objects.values_list(
            "credit_line_id", "due_date", "fees_paid_fen", "interest_paid_fen", "principal_paid_fen", "last_paid_on"
        )
    )
    payments = ordered(
        Payment.objects.values_list(
            "external_reference",
            "credit_line_id",
            "amount_fen",
            "unallocated_fen",
            "channel",
            "received_on",
            "reversal_of__external_reference",
            "reversal_reason",
            "reversal_note",
        )
    )
    allocations = ordered(
        PaymentAllocation.objects.values_list(
            "payment__external_reference", "bill_id", "fees_fen", "interest_fen", "principal_fen", "received_on"
        )
    )
    bill_history = ordered(
        Bill.history.values_list(
            "id",
            "fees_paid_fen",
            "interest_paid_fen",
            "principal_paid_fen",
            "last_paid_on",
            "history_type",
            "history_change_reason",
            "history_user_id",
        )
    )
    payment_history = ordered(
        Payment.history.values_list(
            "external_reference", "amount_fen", "unallocated_fen", "history_type", "history_change_reason"
        )
    )
    events = ordered(
        (kind, line_id, json.dumps(data, sort_keys=True))
        for kind, line_id, data in Event.objects.values_list("type", "credit_line_id", "data")
    )
    return bills, payments, allocations, bill_history, payment_history, events


def test_a_set_of_reversals_leaves_the_ledger_its_history_and_events_as_reversing_one_by_one(line, supervisor):
    second = CreditLineFactory()
    BillFactory(
        credit_line=second, due_date=D(2026, 1, 10), principal_due_fen=10_000, interest_due_fen=0, fees_due_fen=0
    )
    pay(line, "60.00", "PAY-1")
    pay(line, "200.00", "PAY-2", day=D(2026, 1, 21))  # the rest of January, February in full, 50.00 credit
    pay(second, "80.00", "PAY-3")
    pay(second, "50.00", "PAY-4", day=D(2026, 1, 22))  # 30.00 of it credit
    # Amended below what was paid: 20.00 of PAY-4 and 10.00 of PAY-3 move off the bill, to credit.
    bill_upsert(credit_line=second, due_date=D(2026, 1, 10), amounts={"principal_due": "70.00"}, reason="更正")
    rows = [
        ReversalRow("PAY-2", "REV-2", "bounced", at(D(2026, 2, 25)), "余额不足"),
        ReversalRow("PAY-4", "REV-4", "charged_back", at(D(2026, 2, 26))),
        ReversalRow("PAY-1", "REV-1", "other", at(D(2026, 2, 27)), "  退票  "),
        ReversalRow("PAY-3", "REV-3", "bounced", at(D(2026, 2, 25), hour=9)),
        ReversalRow("PAY-2", "REV-2", "bounced", at(D(2026, 2, 25)), "余额不足"),  # the same again: a replay
    ]

    def as_a_set():
        payments_reverse(rows=rows, actor=supervisor)

    def one_by_one():
        for row in rows:
            payment_reverse(
                payment=Payment.objects.get(external_reference=row.payment),
                external_reference=row.external_reference,
                reason=row.reason,
                reversed_at=row.reversed_at,
                note=row.note,
                actor=supervisor,
            )

    by_set, by_one = undone(as_a_set, the_ledger), undone(one_by_one, the_ledger)
    assert by_set == by_one
    bills, payments, allocations, bill_history, payment_history, events = by_set
    assert [bill[2:5] for bill in bills] == [(0, 0, 0)] * 3
    assert [entry for entry in payments if entry[6]] == [
        ("REV-1", line.pk, -6_000, 0, "alipay", D(2026, 2, 27), "PAY-1", "other", "退票"),
        ("REV-2", line.pk, -20_000, -5_000, "alipay", D(2026, 2, 25), "PAY-2", "bounced", "余额不足"),
        ("REV-3", second.pk, -8_000, -1_000, "alipay", D(2026, 2, 25), "PAY-3", "bounced", ""),
        ("REV-4", second.pk, -5_000, -5_000, "alipay", D(2026, 2, 26), "PAY-4", "charged_back", ""),
    ]
    assert [row[0] for row in allocations if row[0].startswith("REV-")] == ["REV-1", "REV-2", "REV-2", "REV-3"]
    reversed_bills = [(entry[6], entry[7]) for entry in bill_history if entry[6] and "reversed" in entry[6]]
    assert sorted(reversed_bills) == [
        ("Payment PAY-1 reversed (Other).", supervisor.pk),
        ("Payment PAY-2 reversed (Bounced).", supervisor.pk),
        ("Payment PAY-2 reversed (Bounced).", supervisor.pk),
        ("Payment PAY-3 reversed (Bounced).", supervisor.pk),
    ]
    assert [entry[3:] for entry in payment_history if entry[0].startswith("REV-")] == [
        ("+", "Payment PAY-1 reversed (Other)."),
        ("+", "Payment PAY-2 reversed (Bounced)."),
        ("+", "Payment PAY-3 reversed (Bounced)."),
        ("+", "Payment PAY-4 reversed (Charged back)."),
    ]
    assert [event for event in events if event[0] == EventType.PAYMENT_REVERSED] == sorted(
        (EventType.PAYMENT_REVERSED, line_id, json.dumps(data, sort_keys=True))
        for line_id, data in [
            (line.pk, {"payment": "PAY-1", "reversal": "REV-1", "amount": "60.00", "reason": "other"}),
            (line.pk, {"payment": "PAY-2", "reversal": "REV-2", "amount": "200.00", "reason": "bounced"}),
            (second.pk, {"payment": "PAY-3", "reversal": "REV-3", "amount": "80.00", "reason": "bounced"}),
            (second.pk, {"payment": "PAY-4", "reversal": "REV-4", "amount": "50.00", "reason": "charged_back"}),
        ]
    )


def test_a_set_answers_each_row_with_its_reversal_and_a_replay_with_the_one_first_recorded(line):
    pay(line, "100.00", "PAY-1")
    pay(line, "50.00", "PAY-2", day=D(2026, 1, 21))
    (first,) = payments_reverse(rows=[ReversalRow("PAY-1", "REV-1", "bounced", at(REVERSED_ON))], actor=None)
    rows = [
        ReversalRow("PAY-2", "REV-2", "bounced", at(REVERSED_ON)),
        ReversalRow("PAY-1", "REV-1", "other", at(REVERSED_ON), "sent again, told otherwise"),
        ReversalRow("PAY-2", "REV-2", "bounced", at(REVERSED_ON)),
    ]
    answers = payments_reverse(rows=rows, actor=None)
    recorded = Payment.objects.get(external_reference="REV-2")
    assert [(a.payment_id, a.payment, a.external_reference, a.amount_fen, a.reason, a.replayed) for a in answers] == [
        (recorded.pk, "PAY-2", "REV-2", -5_000, "bounced", False),
        (first.payment_id, "PAY-1", "REV-1", -10_000, "bounced", True),
        (recorded.pk, "PAY-2", "REV-2", -5_000, "bounced", False),
    ]
    assert {answer.credit_line for answer in answers} == {line.number}
    assert Payment.objects.get(external_reference="REV-1").reversal_note == ""
    assert Event.objects.filter(type=EventType.PAYMENT_REVERSED).count() == 2


def test_every_bad_row_of_a_set_of_reversals_is_named_by_index_field_and_value_and_nothing_is_written(line):
    for serial, day in enumerate((PAID_ON, D(2026, 1, 21), D(2026, 1, 22), D(2026, 1, 23)), start=1):
        pay(line, "10.00", f"PAY-{serial}", day=day)
    reverse(Payment.objects.get(external_reference="PAY-1"))
    before = the_ledger()
    rows = [
        ReversalRow("PAY-2", "REV-2", "bounced", at(REVERSED_ON)),
        ReversalRow("PAY-NONE", "REV-3", "bounced", at(REVERSED_ON)),
        ReversalRow("REV-1", "REV-4", "bounced", at(REVERSED_ON)),  # a reversal
        ReversalRow("PAY-1", "REV-5", "bounced", at(REVERSED_ON)),  # reversed by REV-1 before
        ReversalRow("PAY-2", "REV-6", "bounced", at(REVERSED_ON)),  # reversed by the first row
        ReversalRow("PAY-3", "PAY-4", "bounced", at(REVERSED_ON)),  # another payment's reference
        ReversalRow("PAY-3", "REV-2", "bounced", at(REVERSED_ON)),  # the first row's reference
        ReversalRow("PAY-3", "REV-7", "bounced", at(D(2026, 1, 21))),  # before PAY-3 was received
        ReversalRow("PAY-4", "REV-8", "bounced", timezone.now() + datetime.timedelta(minutes=6)),
        ReversalRow("PAY-4", "", "lost", datetime.datetime(2026, 2, 25, 12), "x" * 501),
    ]
    with pytest.raises(PaymentsRefused) as refused:
        payments_reverse(rows=rows, actor=None)
    assert [(error.index, error.field, error.value) for error in refused.value.row_errors] == [
        (1, "payment", "PAY-NONE"),
        (2, "payment", "REV-1"),
        (3, "payment", "PAY-1"),
        (4, "payment", "PAY-2"),
        (5, "external_reference", "PAY-4"),
        (6, "external_reference", "REV-2"),
        (7, "reversed_at", at(D(2026, 1, 21)).isoformat()),
        (8, "reversed_at", rows[8].reversed_at.isoformat()),
        (9, "external_reference", ""),
        (9, "reason", "lost"),
        (9, "reversed_at", datetime.datetime(2026, 2, 25, 12)),
        (9, "note", 501),
    ]
    messages = [error.message for error in refused.value.row_errors]
    assert messages[2:4] == [
        "Payment 'PAY-1' was already reversed by 'REV-1'.",
        "Payment 'PAY-2' was already reversed by 'REV-2'.",
    ]
    assert "is in the future" in messages[7]
    assert the_ledger() == before


def test_a_set_of_a_hundred_reversals_takes_no_more_statements_than_a_set_of_ten(django_assert_max_num_queries):
    lines = [CreditLineFactory() for _ in range(110)]
    for line in lines:
        BillFactory(credit_line=line, due_date=D(2026, 1, 10), principal_due_fen=10_000)
    payments_post(
        rows=[PaymentRow(line.number, f"PAY-{n}", "150.00", "alipay", at(PAID_ON)) for n, line in enumerate(lines)],
        actor=None,
    )
    rows = [ReversalRow(f"PAY-{n}", f"REV-{n}", "bounced", at(REVERSED_ON)) for n in range(110)]
    with CaptureQueriesContext(connection) as ten:
        payments_reverse(rows=rows[:10], actor=None)
    with django_assert_max_num_queries(len(ten)):
        payments_reverse(rows=rows[10:], actor=None)
    with django_assert_max_num_queries(len(ten)):
        assert all(answer.replayed for answer in payments_reverse(rows=rows[10:], actor=None))
    assert len(ten) <= 13
    assert not Bill.objects.filter(principal_paid_fen__gt=0).exists()
    assert Event.objects.filter(type=EventType.PAYMENT_REVERSED).count() == 110
