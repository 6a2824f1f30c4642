"""A supervisor signs in in a real headless Chromium, lands on the morning dashboard and sees its chart drawn."""

import datetime

import pytest

from backoffice.kernel.roles import SUPERVISOR
from backoffice.reports.models import LineDay
from tests.e2e.test_reports import painted
from tests.factories import ProductFactory, user_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portfolio(shipped_data):
    user_in(SUPERVISOR, "supervisor-morning")
    product = ProductFactory()
    for bucket, lines, overdue in (("M0", 40, 0), ("M1", 12, 360_000), ("M2", 6, 420_000), ("M4", 2, 300_000)):
        LineDay.objects.create(
            as_of=datetime.date(2026, 11, 30),
            product_id=product.pk,
            policy_id=product.policy_id,
            bucket=bucket,
            stage="" if bucket == "M0" else "reminder",
            lines=lines,
            principal_fen=lines * 500_000,
            overdue_fen=overdue,
        )


def test_a_supervisor_lands_on_the_morning_dashboard_and_its_inventory_chart_is_drawn(
    page, live_server, portfolio, screenshot
):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-morning")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.wait_for_selector("#card-inventory")
    assert page.url == f"{live_server.url}/admin/reports/dashboard/"
    assert painted(page, "#by-bucket-chart") > 0.01
    assert page.locator("#card-inventory .dashboard-figure").inner_text() == "¥10,800.00"
    assert page.locator("#card-entry-rate .dashboard-figure").inner_text() == "not yet ripe"
    screenshot("dashboard")
