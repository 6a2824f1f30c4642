"""A supervisor in a real headless Chromium reads the people report with its chart drawn, drills from an agent's
cases in hand into the case list, and reads the agencies' commission statement."""

import datetime

import pytest

from backoffice.kernel.roles import AGENT, SUPERVISOR
from backoffice.reports.models import PeopleDay
from tests.e2e.test_reports import painted
from tests.factories import ProductFactory, user_in

pytestmark = pytest.mark.django_db(transaction=True)

NOV_30 = datetime.date(2026, 11, 30)


def test_the_people_chart_draws_beside_its_table_and_the_commission_statement_reads(
    page, live_server, shipped_data, screenshot
):
    user_in(SUPERVISOR, "supervisor-people")
    product = ProductFactory()
    agents = [user_in(AGENT, name) for name in ("agent-east", "agent-west")]
    for agent, collected in zip(agents, (250_000, 120_000), strict=True):
        PeopleDay.objects.create(
            day=NOV_30, product_id=product.pk, agent_id=agent.pk, cases_in_hand=8, collected_fen=collected, contacts=20
        )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-people")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/reports/people/?from=2026-11-01&to=2026-11-30")
    page.wait_for_selector("#table-people")
    assert painted(page, "#people-chart") > 0.005
    assert "2,500.00" in page.locator("#table-people tbody tr").first.inner_text()
    screenshot("reports-people")
    page.locator("#table-people tbody tr").first.locator("a").first.click()
    page.wait_for_selector("#changelist")
    assert "people=in_hand" in page.url
    page.goto(f"{live_server.url}/admin/reports/commission/?month=2026-11")
    page.wait_for_selector("#table-statement")
    screenshot("reports-commission")
