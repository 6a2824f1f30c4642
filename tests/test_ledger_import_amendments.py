"""A bills file amending a bill below what was paid: the excess moves, and the line's case is refreshed."""

import csv
import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import Bill, Payment
from accounts.services import payment_post
from cases.models import Case
from tests.factories import BillFactory, overdue_line

pytestmark = pytest.mark.django_db

BEIJING = datetime.timezone(datetime.timedelta(hours=8))


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_a_bills_file_amending_below_what_was_paid_moves_the_excess_and_refreshes_the_case(tmp_path, run_dunning):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    BillFactory(credit_line=line, due_date=datetime.date(2026, 2, 10), interest_due_fen=0, fees_due_fen=0)
    run_dunning(datetime.date(2026, 3, 19))
    payment_post(
        credit_line=line,
        external_reference="P-1",
        amount="600.00",
        channel="alipay",
        received_at=datetime.datetime(2026, 3, 20, 9, tzinfo=BEIJING),
    )
    path = tmp_path / "bills.csv"
    with open(path, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(
            [["credit_line", "due_date", "principal_due", "reason"], [line.number, "2026-01-10", "500.00", "本金更正"]]
        )
    out = StringIO()
    call_command("import_ledger", str(path), kind="bills", stdout=out)
    january, february = Bill.objects.filter(credit_line=line).order_by("due_date")
    assert (january.principal_due_fen, january.principal_paid_fen, february.principal_paid_fen) == (
        50_000,
        50_000,
        10_000,
    )
    case = Case.objects.open().get(credit_line=line)
    assert (case.balance_fen, case.days_past_due) == (90_000, 38)
    payment = Payment.objects.get()
    assert sum(row.total_fen for row in payment.allocations.all()) + payment.unallocated_fen == payment.amount_fen
