"""A supervisor in a real headless Chromium reads the inventory and the flow rates, sees the charts drawn, drills
into a bucket and takes the flow matrix away as XLSX."""

import datetime
import io

import openpyxl
import pytest

from backoffice.kernel.roles import SUPERVISOR
from backoffice.reports.models import FlowCell, LineDay
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
