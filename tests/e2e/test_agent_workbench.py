"""An agent works the queue in a real headless Chromium: work next, log a call, record a promise, get refused."""

import datetime

import pytest
from django.utils import timezone

from backoffice.kernel.roles import AGENT
from cases.models import Case, Contact, Promise
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db(transaction=True)


def zone_where_it_is(hour: int) -> str:
    """Return a fixed-offset zone in which the local hour is ``hour`` right now."""
    utc_hour = timezone.now().astimezone(datetime.UTC).hour
    offset = (hour - utc_hour + 12) % 24 - 12  # local = UTC + offset, within Etc's -12..+12
    # Etc/GMT names have the sign reversed: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


@pytest.fixture
def agent_with_cases(shipped_data, run_dunning):
    agent = user_in(AGENT, "agent-e2e")
    lines = [overdue_line(due=datetime.date(2026, 1, 10) - datetime.timedelta(days=5 * i)) for i in range(3)]
    run_dunning(datetime.date(2026, 1, 25))
    Case.objects.filter(credit_line__in=lines).update(assignee=agent)
    for line in lines:
        line.customer.time_zone = zone_where_it_is(12)
        line.customer.save()
    return agent


def test_an_agent_works_the_next_case_logs_a_promise_and_is_refused_outside_the_window(
    page, live_server, agent_with_cases, screenshot
):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "agent-e2e")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.wait_for_selector("#work-next")
    screenshot("agent-queue")
    page.click("#work-next")
    page.wait_for_selector("#log-contact")
    case_id = int(page.url.rstrip("/").split("/")[-2])

    page.click("#log-contact")
    page.select_option("select[name=channel]", "call")
    page.select_option("select[name=outcome]", "promise")
    page.check("input[name=identity_disclosed]")
    page.fill("textarea[name=notes]", "客户承诺下周一还款")
    page.click("input[type=submit].default")
    page.wait_for_selector(".messagelist")
    assert Contact.objects.filter(case_id=case_id, outcome="promise").count() == 1

    page.click("#record-promise")
    page.fill("input[name=amount]", "300.00")
    page.fill("input[name=due_date]", (timezone.localdate() + datetime.timedelta(days=5)).isoformat())
    page.click("input[type=submit].default")
    page.wait_for_selector(".messagelist")
    screenshot("agent-case-after-promise")
    assert Promise.objects.filter(case_id=case_id).count() == 1

    customer = Case.objects.get(pk=case_id).credit_line.customer
    customer.time_zone = zone_where_it_is(23)
    customer.save()
    page.click("#log-contact")
    page.select_option("select[name=outcome]", "no_answer")
    page.click("input[type=submit].default")
    page.wait_for_selector(".errornote, .errorlist")
    screenshot("agent-call-refused-outside-window")
    assert "CONTACT_OUTSIDE_WINDOW" in page.content()
    assert Contact.objects.filter(case_id=case_id).count() == 1
