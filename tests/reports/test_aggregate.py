"""The night writes what the reports read, once per date: the portfolio by bucket, month-end positions and the flow
between them, vintage cohorts and the entry rate's observations, each worked out by hand here."""

import datetime

import pytest
import time_machine

from accounts.models import Bill
from accounts.services import payment_post
from backoffice.reports.aggregate import positions_from_history, reports_aggregate
from backoffice.reports.models import EntryObservation, FlowCell, LineDay, MonthEndPosition, VintageCell
from tests.factories import BillFactory, CreditLineFactory, overdue_line, product_on

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def night(run_dunning, day: datetime.date):
    with time_machine.travel(datetime.datetime.combine(day, datetime.time(0, 10), tzinfo=SHANGHAI), tick=False):
        return run_dunning(day)


def buckets(day):
    rows = LineDay.objects.filter(as_of=day)
    found = {}
    for row in rows:
        lines, principal, overdue = found.get(row.bucket, (0, 0, 0))
        found[row.bucket] = (lines + row.lines, principal + row.principal_fen, overdue + row.overdue_fen)
    return found


def test_the_portfolio_of_the_night_by_bucket_with_current_lines_included(run_dunning):
    day = datetime.date(2026, 3, 15)
    overdue_line(due=day - datetime.timedelta(days=10), principal_fen=100_000)  # M1
    overdue_line(due=day - datetime.timedelta(days=45), principal_fen=200_000)  # M2
    current = CreditLineFactory(product=product_on("standard"))
    BillFactory(credit_line=current, due_date=day + datetime.timedelta(days=5), principal_due_fen=50_000)
    night(run_dunning, day)
    assert buckets(day) == {"M0": (1, 50_000, 0), "M1": (1, 100_000, 100_000), "M2": (1, 200_000, 200_000)}


def test_a_rerun_of_the_night_writes_nothing_again_and_a_later_payment_changes_only_later_dates(run_dunning):
    day = datetime.date(2026, 3, 15)
    line = overdue_line(due=day - datetime.timedelta(days=10), principal_fen=100_000)
    night(run_dunning, day)
    before = list(LineDay.objects.values_list("as_of", "bucket", "lines", "overdue_fen"))
    payment_post(
        credit_line=line,
        external_reference="P-1",
        amount="1000.00",
        channel="alipay",
        received_at=datetime.datetime(2026, 3, 15, 9, tzinfo=SHANGHAI),
    )
    night(run_dunning, day)
    assert list(LineDay.objects.values_list("as_of", "bucket", "lines", "overdue_fen")) == before
    night(run_dunning, day + datetime.timedelta(days=1))
    assert buckets(day + datetime.timedelta(days=1)) == {"M0": (1, 0, 0)}


def test_month_ends_write_positions_the_flow_from_the_previous_month_end_and_the_vintage(run_dunning):
    # Three lines over two month ends: one stays in M1→M2, one is paid to M0, one is current throughout.
    jan, feb = datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)
    rolling = overdue_line(due=datetime.date(2026, 1, 20), principal_fen=100_000)
    curing = overdue_line(due=datetime.date(2026, 1, 25), principal_fen=40_000)
    current = CreditLineFactory(product=product_on("standard"), opened_on=datetime.date(2025, 12, 3))
    BillFactory(credit_line=current, due_date=datetime.date(2026, 6, 1), principal_due_fen=70_000)
    night(run_dunning, jan)
    Bill.objects.filter(credit_line=curing).update(principal_paid_fen=40_000)
    night(run_dunning, feb)
    assert MonthEndPosition.objects.filter(month_end=jan).count() == 3
    product = rolling.product_id
    flow = {(c.from_bucket, c.to_bucket): (c.lines, c.principal_fen) for c in FlowCell.objects.filter(month_end=feb)}
    assert flow == {("M1", "M2"): (1, 100_000), ("M1", "M0"): (1, 40_000), ("M0", "M0"): (1, 70_000)}
    assert set(FlowCell.objects.values_list("product_id", flat=True)) == {product}
    cohort = VintageCell.objects.get(opened_month=datetime.date(2025, 12, 1), months_on_book=2, bucket="M0")
    assert (cohort.lines, cohort.principal_fen) == (1, 70_000)


def test_the_entry_rate_reads_what_was_due_the_day_before_and_is_still_unpaid(run_dunning):
    due = datetime.date(2026, 3, 14)
    unpaid = overdue_line(due=due, principal_fen=100_000)
    paid = overdue_line(due=due, principal_fen=300_000)
    Bill.objects.filter(credit_line=paid).update(principal_paid_fen=300_000)
    BillFactory(
        credit_line=unpaid,
        due_date=due - datetime.timedelta(days=30),
        principal_due_fen=10_000,
        principal_paid_fen=10_000,
        interest_due_fen=0,
        fees_due_fen=0,
    )
    night(run_dunning, due + datetime.timedelta(days=1))
    rows = {
        (o.repeat, o.days_after): (o.bills, o.due_fen, o.unpaid_fen)
        for o in EntryObservation.objects.filter(due_on=due)
    }
    assert rows == {(True, 1): (1, 100_000, 100_000), (False, 1): (1, 300_000, 0)}
    assert not EntryObservation.objects.filter(due_on=due, days_after=4).exists()  # not yet ripe


def test_the_aggregate_is_the_same_after_a_rerun_of_its_own_step(run_dunning):
    day = datetime.date(2026, 1, 31)
    overdue_line(due=day - datetime.timedelta(days=3))
    night(run_dunning, day)
    counts = [model.objects.count() for model in (LineDay, MonthEndPosition, FlowCell, VintageCell, EntryObservation)]
    assert reports_aggregate(as_of=day) == 0
    assert [m.objects.count() for m in (LineDay, MonthEndPosition, FlowCell, VintageCell, EntryObservation)] == counts


def test_a_past_month_end_from_the_ledgers_history_is_what_the_night_saw_then_whatever_was_paid_since(run_dunning):
    month_end = datetime.date(2026, 1, 31)
    lines = [
        overdue_line(due=datetime.date(2026, 1, 20), principal_fen=100_000),  # M1 at the month end
        overdue_line(due=datetime.date(2025, 11, 20), principal_fen=60_000),  # M3
    ]
    part_paid = overdue_line(due=datetime.date(2025, 12, 10), principal_fen=80_000)
    payment_post(
        credit_line=part_paid,
        external_reference="BEFORE",
        amount="300.00",
        channel="alipay",
        received_at=datetime.datetime(2026, 1, 5, 10, tzinfo=SHANGHAI),
    )
    current = CreditLineFactory(product=product_on("standard"), opened_on=datetime.date(2025, 6, 1))
    BillFactory(credit_line=current, due_date=datetime.date(2026, 2, 20), principal_due_fen=70_000)
    night(run_dunning, month_end)
    seen = set(MonthEndPosition.objects.values_list("credit_line_id", "bucket", "principal_fen", "overdue_fen"))
    MonthEndPosition.objects.all().delete()
    payment_post(
        credit_line=lines[0],
        external_reference="AFTER",
        amount="1000.00",
        channel="alipay",
        received_at=datetime.datetime(2026, 2, 3, 10, tzinfo=SHANGHAI),
    )
    assert positions_from_history(month_end=month_end) == 4
    rebuilt = set(MonthEndPosition.objects.values_list("credit_line_id", "bucket", "principal_fen", "overdue_fen"))
    assert rebuilt == seen
    assert {bucket for _line, bucket, _p, _o in rebuilt} == {"M0", "M1", "M2", "M3"}
