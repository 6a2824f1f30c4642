"""A supervisor in a real headless Chromium reads the recovery and letters reports: both charts are drawn, and a
stage's cohort and a funnel step lead to their lists."""

import datetime

import pytest

from backoffice.kernel.roles import SUPERVISOR
from backoffice.reports.models_recovery import LetterDay, LetterPaid, RecoveryDay
from tests.e2e.test_reports import painted
from tests.factories import ProductFactory, user_in

pytestmark = pytest.mark.django_db(transaction=True)

NOV_2 = datetime.date(2026, 11, 2)


@pytest.fixture
def aggregates(shipped_data):
    user_in(SUPERVISOR, "supervisor-recovery")
    product = ProductFactory()
    dimensions = {"product_id": product.pk, "policy_id": product.policy_id, "entered_on": NOV_2}
    RecoveryDay.objects.create(day=NOV_2, stage="reminder", entered=10, assigned_fen=1_000_000, **dimensions)
    RecoveryDay.objects.create(
        day=NOV_2 + datetime.timedelta(days=3),
        stage="reminder",
        collected_fen=400_000,
        collecting=5,
        paid=3,
        **dimensions,
    )
    RecoveryDay.objects.create(day=NOV_2, stage="collection", entered=4, assigned_fen=800_000, **dimensions)
    letters = {"template_id": 1, "product_id": product.pk}
    for step, count, cost in (("drafted", 8, 0), ("approved", 6, 0), ("sent", 5, 150_000), ("rejected", 2, 0)):
        LetterDay.objects.create(
            day=NOV_2, step=step, letters=count, cost_fen=cost, reason="金额需复核" * (step == "rejected"), **letters
        )
    LetterPaid.objects.create(
        day=NOV_2 + datetime.timedelta(days=5), sent_on=NOV_2, recovered_fen=600_000, paying=2, **letters
    )
    return product


def test_the_recovery_and_letters_charts_draw_and_lead_to_their_lists(page, live_server, aggregates, screenshot):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-recovery")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/reports/recovery/?from=2026-11-01&to=2026-11-30")
    page.wait_for_selector("#table-by-stage")
    assert painted(page, "#by-stage-chart") > 0.005
    # 4,000 of 10,000 yuan collected in reminder.
    assert "40.00%" in page.locator("#table-by-stage tbody tr").first.inner_text()
    screenshot("reports-recovery")
    page.locator("#table-by-stage tbody tr").first.locator("a").first.click()
    page.wait_for_url("**/admin/cases/case/?entered_stage=reminder**")
    page.goto(f"{live_server.url}/admin/reports/letters/?from=2026-11-01&to=2026-11-30")
    page.wait_for_selector("#table-funnel")
    assert painted(page, "#funnel-chart") > 0.005
    screenshot("reports-letters")
    page.locator("#table-funnel tbody tr").nth(2).locator("a").first.click()
    page.wait_for_url("**/admin/letters/letter/?funnel_step=sent**")
