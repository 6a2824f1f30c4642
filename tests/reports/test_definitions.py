"""Each report's definition on a small hand-made set of aggregate rows, the answer worked out by hand."""

import datetime
from decimal import Decimal

import pytest

from backoffice.reports.models import EntryObservation, FlowCell, LineDay, VintageCell
from backoffice.reports.tables import NOT_RIPE, Linked, Money, Share

pytestmark = pytest.mark.django_db

NOV_30 = datetime.date(2026, 11, 30)


def line_day(product, bucket, *, lines, principal, overdue, stage="", team=0, agency=0, as_of=NOV_30):
    LineDay.objects.create(
        as_of=as_of,
        product_id=product.pk,
        policy_id=product.policy_id,
        bucket=bucket,
        stage=stage,
        team_id=team,
        agency_id=agency,
        lines=lines,
        principal_fen=principal,
        overdue_fen=overdue,
    )


@pytest.fixture
def portfolio(product):
    line_day(product, "M0", lines=10, principal=500_000, overdue=0)
    line_day(product, "M1", lines=3, principal=90_000, overdue=12_000, stage="reminder", team=1)
    line_day(product, "M1", lines=2, principal=60_000, overdue=8_000, stage="reminder", team=2)
    line_day(product, "M3", lines=1, principal=40_000, overdue=30_000, stage="collection", agency=7)
    # Another date: never counted on 30 November.
    line_day(product, "M1", lines=99, principal=1, overdue=1, as_of=NOV_30 - datetime.timedelta(days=1))


def test_inventory_sums_the_dates_rows_by_bucket_with_current_lines_included(portfolio, built, product):
    tables, _result = built("inventory", date="2026-11-30")
    rows = {row[0]: row for row in tables["by-bucket"].rows}
    m0, m1, m3 = rows["M0 current"], rows["M1 (1–30)"], rows["M3 (61–90)"]
    assert m0[1] == 10  # current lines have no case: no link
    assert m1[1] == Linked(5, "/admin/cases/case/?bucket=M1")
    assert m1[3] == Money(20_000)
    assert m1[5] == Money(150_000)
    # 20,000 of 50,000 fen overdue, 5 of 16 lines.
    assert m1[4].ratio == Decimal("0.4000")
    assert m1[2] == Share(5, 16)
    assert m3[4].ratio == Decimal("0.6000")
    assert tables["by-bucket"].footer[0][1:4] == [16, Share(16, 16), Money(50_000)]


def test_an_inventory_bucket_leads_to_exactly_its_cases_and_m0_nowhere(portfolio, built, product):
    tables, _result = built("inventory", date="2026-11-30", product=str(product.pk))
    rows = {row[0]: row for row in tables["by-bucket"].rows}
    assert not isinstance(rows["M0 current"][1], Linked)
    assert rows["M3 (61–90)"][1] == Linked(1, f"/admin/cases/case/?bucket=M3&product=p{product.pk}")
    assert not isinstance(rows["M2 (31–60)"][1], Linked)  # no lines, nothing to open


def test_the_inventory_breakdown_follows_the_chosen_dimension(portfolio, built):
    tables, _result = built("inventory", date="2026-11-30", group_by="stage")
    rows = {row[0]: row for row in tables["breakdown"].rows}
    assert rows["current (no case)"][1] == 10
    assert rows["Reminder"][1] == 5
    assert rows["Reminder"][3] == Money(20_000)
    tables, _result = built("inventory", date="2026-11-30", team="", agency="")
    assert tables["by-bucket"].footer[0][1] == 16


def observe(product, due_on, days_after, *, due, unpaid, repeat=False, bills=1):
    EntryObservation.objects.create(
        due_on=due_on,
        days_after=days_after,
        product_id=product.pk,
        repeat=repeat,
        bills=bills,
        due_fen=due,
        unpaid_fen=unpaid,
    )


def test_the_entry_rate_divides_sums_never_averages_daily_rates_and_greys_what_is_not_ripe(product, built):
    first, second = datetime.date(2026, 11, 1), datetime.date(2026, 11, 2)
    observe(product, first, 1, due=100_000, unpaid=10_000)  # 10 %
    observe(product, first, 4, due=100_000, unpaid=5_000)
    observe(product, second, 1, due=300_000, unpaid=90_000)  # 30 %; its DPD4 is not written yet
    tables, result = built("entry-rate", **{"from": "2026-11-01", "to": "2026-11-02"})
    days = tables["by-due-date"]
    assert days.rows[0][4] == Share(10_000, 100_000)
    assert days.rows[0][5] == Share(5_000, 100_000)
    assert days.rows[1][4] == Share(90_000, 300_000)
    assert days.rows[1][5] is NOT_RIPE
    total = days.footer[0]
    # 100,000 unpaid of 400,000 due is 25 %; the mean of 10 % and 30 % would be 20 %.
    assert total[4].ratio == Decimal("0.2500")
    # Follow-through over the days that are ripe: 5,000 of 100,000.
    assert total[5].ratio == Decimal("0.0500")
    assert total[6] is NOT_RIPE
    assert result.charts[0].spec["datasets"][0]["data"] == [10.0, 30.0]


def test_the_entry_rate_splits_new_and_repeat_customers(product, built):
    day = datetime.date(2026, 11, 1)
    observe(product, day, 1, due=100_000, unpaid=50_000, repeat=False)
    observe(product, day, 1, due=300_000, unpaid=30_000, repeat=True)
    tables, _result = built("entry-rate", **{"from": "2026-11-01", "to": "2026-11-01"})
    rows = {row[0]: row for row in tables["by-product"].rows}
    assert rows["白条 (baitiao) · new customers"][4].ratio == Decimal("0.5000")
    assert rows["白条 (baitiao) · repeat customers"][4].ratio == Decimal("0.1000")
    assert tables["by-due-date"].rows[0][4] == Share(80_000, 400_000)


@pytest.fixture
def three_lines(product):
    """Three lines from the end of October to the end of November: A M0→M1 (¥1,000), B M0→M0 (¥2,000),
    C M1→M2 (¥500), written as the night writes them."""
    for source, target, principal in (("M0", "M1", 100_000), ("M0", "M0", 200_000), ("M1", "M2", 50_000)):
        FlowCell.objects.create(
            month_end=NOV_30,
            product_id=product.pk,
            from_bucket=source,
            to_bucket=target,
            lines=1,
            principal_fen=principal,
        )


def test_the_flow_matrix_gives_each_cell_as_a_share_of_its_row_by_balance_and_by_count(three_lines, built):
    tables, result = built("flow-rates", month="2026-11")
    columns = tables["by-balance"].columns
    balance = {row[0]: dict(zip(columns, row, strict=True)) for row in tables["by-balance"].rows}
    count = {row[0]: dict(zip(columns, row, strict=True)) for row in tables["by-count"].rows}
    assert balance["M0"]["M0"] == Share(200_000, 300_000)
    assert balance["M0"]["M1"] == Share(100_000, 300_000)
    assert balance["M0"]["M1"].ratio == Decimal("0.3333")
    assert count["M0"]["M0"].ratio == Decimal("0.5000")
    assert count["M0"]["M1"].ratio == Decimal("0.5000")
    assert balance["M1"]["M2"].ratio == Decimal("1.0000")
    assert balance["M1"]["CO"].ratio == Decimal("0.0000")
    assert balance["M2"]["M3"].ratio is None  # nobody in M2 at the end of October
    heat = result.charts[0].spec
    assert {"x": "M1", "y": "M0", "v": 33.33} in heat["cells"]


def test_the_collection_multiplier_multiplies_the_successive_flow_rates(three_lines, built):
    tables, _result = built("flow-rates", month="2026-11")
    steps = {row[0]: row for row in tables["multiplier"].rows}
    assert steps["M0→M1"][1] == Share(100_000, 300_000)
    assert steps["M0→M1"][2] == Decimal("0.333333")
    assert steps["M1→M2"][2] == Decimal("0.333333")  # 1/3 × 1
    assert steps["M2→M3"][2] is None  # the chain breaks where a bucket held nothing


def test_another_month_end_is_not_read(three_lines, built):
    tables, _result = built("flow-rates", month="2026-10")
    assert all(cell.whole == 0 for row in tables["by-balance"].rows for cell in row[2:])


def cohort(product, opened, mob, bucket, principal):
    VintageCell.objects.create(
        opened_month=opened, months_on_book=mob, product_id=product.pk, bucket=bucket, lines=1, principal_fen=principal
    )


def test_vintage_shares_divide_the_cohorts_principal_past_31_and_61_days_by_what_is_outstanding(product, built):
    january, february = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
    cohort(product, january, 3, "M0", 600_000)
    cohort(product, january, 3, "M2", 300_000)
    cohort(product, january, 3, "M3", 100_000)
    cohort(product, january, 3, "CO", 50_000)  # charged off: no longer outstanding
    cohort(product, january, 4, "M0", 1_000_000)
    cohort(product, february, 0, "M0", 10_000)
    tables, result = built("vintage", month="2026-11")
    over_30 = {row[0]: row for row in tables["over-30"].rows}
    over_60 = {row[0]: row for row in tables["over-60"].rows}
    assert over_30["2026-01"][4] == Share(400_000, 1_000_000)
    assert over_60["2026-01"][4] == Share(100_000, 1_000_000)
    assert over_30["2026-01"][5].ratio == Decimal("0.0000")
    assert over_30["2026-02"][1].ratio == Decimal("0.0000")
    assert over_30["2026-02"][2] == ""
    assert result.charts[0].spec["datasets"][0]["data"][3] == 40.0
