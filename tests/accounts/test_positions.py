import datetime

import pytest
from django.utils import timezone

from accounts.positions import credit_line_position
from accounts.services import payment_post
from tests.factories import BillFactory, CreditLineFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def line():
    line = CreditLineFactory()
    for due in (D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10)):
        BillFactory(credit_line=line, due_date=due, principal_due_fen=10_000, interest_due_fen=0, fees_due_fen=0)
    return line


def test_nothing_is_past_due_on_the_due_date_itself(line):
    position = credit_line_position(credit_line=line, as_of=D(2026, 1, 10))
    assert (position.days_past_due, position.overdue_fen) == (0, 0)


def test_dpd_counts_from_the_oldest_unpaid_bill(line):
    position = credit_line_position(credit_line=line, as_of=D(2026, 2, 15))
    assert (position.days_past_due, position.overdue_fen) == (36, 20_000)


def test_a_past_date_sees_the_debt_as_it_was_before_a_later_payment(line):
    payment_post(
        credit_line=line,
        external_reference="P1",
        amount="100.00",
        channel="alipay",
        received_at=timezone.make_aware(datetime.datetime(2026, 2, 20, 10)),
    )
    before = credit_line_position(credit_line=line, as_of=D(2026, 2, 19))
    after = credit_line_position(credit_line=line, as_of=D(2026, 2, 20))
    assert (before.days_past_due, before.overdue_fen) == (40, 20_000)
    assert (after.days_past_due, after.overdue_fen) == (10, 10_000)
