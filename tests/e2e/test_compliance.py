"""A supervisor in a real headless Chromium reads the compliance report with its chart drawn, and sees a dashboard
figure past its alert threshold marked in words, on screen and in print."""

import datetime
import io
from decimal import Decimal

import pypdf
import pytest
from django.utils import timezone

from backoffice.kernel.roles import SUPERVISOR
from backoffice.reports.compliance_models import ComplianceDay
from backoffice.reports.models import EntryObservation
from backoffice.reports.threshold_models import DashboardThreshold
from tests.e2e.test_reports import painted
from tests.factories import user_in

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime.date(2026, 11, 30)


@pytest.fixture
def supervisor_in(shipped_data, page, live_server):
    user_in(SUPERVISOR, "supervisor-compliance")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-compliance")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.wait_for_selector("#card-inventory")
    return page


def test_the_compliance_report_draws_its_chart_beside_its_table(supervisor_in, live_server, screenshot):
    for kind, rule, events in (
        ("incident", "CONTACT_OUTSIDE_WINDOW", 4),
        ("incident", "DAILY_CONTACT_CAP", 2),
        ("refused", "IDENTITY_NOT_DISCLOSED", 3),
        ("stopped", "DO_NOT_CONTACT", 5),
        ("reveal", "mobile", 1),
    ):
        ComplianceDay.objects.create(as_of=DAY, kind=kind, rule=rule, events=events)
    page = supervisor_in
    page.goto(f"{live_server.url}/admin/reports/compliance/?from=2026-11-30&to=2026-11-30")
    page.wait_for_selector("#table-by-rule")
    assert painted(page, "#compliance-chart") > 0.005
    assert page.locator("#table-by-rule tbody tr").count() == 4
    screenshot("reports-compliance")


def test_a_figure_past_its_threshold_is_marked_on_screen_and_in_print(supervisor_in, live_server, screenshot):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    EntryObservation.objects.create(
        due_on=yesterday, days_after=1, product_id=1, repeat=False, bills=1, due_fen=100_000, unpaid_fen=8_000
    )
    DashboardThreshold.objects.create(figure="entry-rate", limit=Decimal("5"))
    page = supervisor_in
    page.goto(f"{live_server.url}/admin/reports/dashboard/")
    alert = page.locator("#card-entry-rate .dashboard-alert")
    assert alert.inner_text() == "Past the alert threshold: alert above 5.00%"
    assert "past-threshold" in page.locator("#card-entry-rate").get_attribute("class")
    screenshot("dashboard-threshold")
    page.emulate_media(media="print")
    assert not page.locator("#header").is_visible()
    assert alert.is_visible()
    printed = page.pdf(prefer_css_page_size=True)
    width, height = (float(side) for side in pypdf.PdfReader(io.BytesIO(printed)).pages[0].mediabox[2:])
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (297, 210)  # A4 landscape, in mm
