"""A supervisor in a real headless Chromium reads the inventory and the flow rates, sees the charts drawn, drills
into a bucket and takes the flow matrix away as XLSX."""

import datetime
import io

import openpyxl
import pytest

from backoffice.kernel.roles import SUPERVISOR
from backoffice.reports.models import EntryObservation, FlowCell, LineDay, VintageCell
from tests.factories import ProductFactory, user_in

pytestmark = pytest.mark.django_db(transaction=True)

NOV_30 = datetime.date(2026, 11, 30)

# How much of a canvas's pixels are not transparent: a blank canvas has none.
PAINTED_SHARE = """(canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted += 1; }
  return painted / (pixels.length / 4);
}"""


@pytest.fixture
def aggregates(shipped_data):
    user_in(SUPERVISOR, "supervisor-reports")
    product = ProductFactory()
    for bucket, lines, overdue in (("M0", 40, 0), ("M1", 12, 360_000), ("M2", 6, 420_000), ("M4", 2, 300_000)):
        LineDay.objects.create(
            as_of=NOV_30,
            product_id=product.pk,
            policy_id=product.policy_id,
            bucket=bucket,
            stage="" if bucket == "M0" else "reminder",
            lines=lines,
            principal_fen=lines * 500_000,
            overdue_fen=overdue,
        )
    moves = [("M0", "M0", 30, 15_000_000), ("M0", "M1", 10, 5_000_000), ("M1", "M0", 4, 2_000_000)]
    moves += [("M1", "M2", 6, 3_000_000), ("M2", "M3", 5, 2_500_000), ("M2", "CO", 1, 500_000)]
    for source, target, lines, principal in moves:
        FlowCell.objects.create(
            month_end=NOV_30,
            product_id=product.pk,
            from_bucket=source,
            to_bucket=target,
            lines=lines,
            principal_fen=principal,
        )
    return product


def painted(page, selector: str) -> float:
    page.wait_for_function(f"document.querySelector({selector!r}) && document.querySelector({selector!r}).width > 0")
    return page.eval_on_selector(selector, PAINTED_SHARE)


def test_a_supervisor_reads_the_inventory_and_the_flow_rates_with_their_charts_and_exports_xlsx(
    page, live_server, aggregates, screenshot
):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-reports")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.click("#reports-link")
    page.click("text=Inventory by bucket")
    page.fill("#id_date", "2026-11-30")
    page.click("#report-filters input[type=submit]")
    page.wait_for_selector("#table-by-bucket")
    assert "date=2026-11-30" in page.url
    assert painted(page, "#by-bucket-chart") > 0.01
    assert page.locator("#table-by-bucket tfoot").inner_text().split("\t")[1].strip() == "60"
    screenshot("reports-inventory")

    page.click("#table-by-bucket a >> text=12")
    page.wait_for_selector("#result_list, #changelist")
    assert "bucket=M1" in page.url

    page.goto(f"{live_server.url}/admin/reports/flow-rates/?month=2026-11")
    page.wait_for_selector("#table-by-balance")
    assert painted(page, "#by-balance-chart") > 0.05
    assert painted(page, "#by-count-chart") > 0.05
    row = page.locator("#table-by-balance tbody tr").first.inner_text()
    assert "75.00%" in row  # M0 stays: 150,000 of 200,000 yuan
    screenshot("reports-flow-rates")

    with page.expect_download() as download:
        page.click("#export-xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][:2] == ["month", "2026-11"]
    m0 = next(row for row in values if row[0] == "M0")
    assert str(m0[2]) == "0.75"
    assert str(m0[3]) == "0.25"


def test_the_entry_rate_and_vintage_curves_draw_and_unripe_figures_are_greyed(
    page, live_server, aggregates, screenshot
):
    product = aggregates
    for offset, unpaid in enumerate((8_000, 12_000, 10_000, 15_000)):
        day = NOV_30 - datetime.timedelta(days=offset)
        for days_after, still in ((1, unpaid), (4, unpaid // 2)):
            if days_after == 4 and offset < 2:
                continue  # DPD4 of the last two due dates is not ripe yet
            EntryObservation.objects.create(
                due_on=day,
                days_after=days_after,
                product_id=product.pk,
                repeat=False,
                bills=10,
                due_fen=100_000,
                unpaid_fen=still,
            )
    for mob in range(4):
        for bucket, principal in (("M0", 900_000 - mob * 100_000), ("M2", mob * 60_000), ("M3", mob * 40_000)):
            VintageCell.objects.create(
                opened_month=datetime.date(2026, 7, 1),
                months_on_book=mob,
                product_id=product.pk,
                bucket=bucket,
                lines=1,
                principal_fen=principal,
            )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-reports")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/reports/entry-rate/?from=2026-11-27&to=2026-11-30")
    page.wait_for_selector("#table-by-due-date")
    assert painted(page, "#entry-rate-chart") > 0.005
    # DPD8 and DPD31 on all four days, DPD4 on the last two, and DPD8 and DPD31 in the total.
    assert page.locator("#table-by-due-date td.not-ripe").count() == 4 * 2 + 2 + 2
    screenshot("reports-entry-rate")
    page.goto(f"{live_server.url}/admin/reports/vintage/?month=2026-11")
    page.wait_for_selector("#table-over-30")
    assert painted(page, "#vintage-chart") > 0.005
    # MOB 1: 60,000 in M2 and 40,000 in M3 of 900,000 outstanding.
    assert "11.11%" in page.locator("#table-over-30 tbody tr").first.inner_text()
    screenshot("reports-vintage")
