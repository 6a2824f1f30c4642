"""An agent opens a case in a real headless Chromium and reads the reminders the system sent, and what became of them."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from backoffice.demo import demo_messages_sent
from backoffice.kernel.roles import AGENT, SUPERVISOR
from cases.models import Case, Message
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent_case_with_reminders(shipped_data, run_dunning):
    """A case one day overdue whose customer withdrew SMS consent: the night stops the SMS and sends the rest."""
    agent = user_in(AGENT, "agent-msg")
    today = timezone.localdate()
    line = overdue_line(due=today - datetime.timedelta(days=2))
    line.customer.consents_to_sms = False
    line.customer.email = "zhang.wei@example.com"
    line.customer.save()
    for back in (1, 0):
        day = today - datetime.timedelta(days=back)
        with time_machine.travel(
            datetime.datetime.combine(day, datetime.time(0, 10), tzinfo=timezone.get_current_timezone())
        ):
            run_dunning(day)
        if back:
            demo_messages_sent(day=day)
    case = Case.objects.get(credit_line=line)
    case.assignee = agent
    case.save(update_fields=["assignee"])
    return case


def test_an_agent_sees_the_sent_reminders_and_their_delivery_on_the_case_timeline(
    page, live_server, agent_case_with_reminders, screenshot
):
    case = agent_case_with_reminders
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "agent-msg")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    page.wait_for_selector("#case-timeline")
    rows = page.locator("#case-timeline tr.event-message")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("App push · overdue · Sent" in text for text in texts), texts
    assert any("E-mail · overdue · Delivered at" in text for text in texts), texts
    stopped = [text for text in texts if "Stopped by a rule" in text]
    assert stopped, texts
    assert all("CONSENT_WITHDRAWN: The customer withdrew consent to this medium." in text for text in stopped)
    assert any("Planned" in text for text in texts), texts  # today's, due later in the day
    page.locator("#case-timeline").scroll_into_view_if_needed()
    screenshot("agent-case-messages")
    assert Message.objects.filter(case=case).count() == len(texts)


def test_a_supervisor_reads_the_days_tally_above_the_message_list(
    page, live_server, agent_case_with_reminders, screenshot
):
    user_in(SUPERVISOR, "supervisor-msg")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "supervisor-msg")
    page.fill("#id_password", "pw-123456")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/cases/message/?planned_for={yesterday.isoformat()}")
    page.wait_for_selector("#message-summary")
    assert page.inner_text("#summary-sent") == "2"
    assert page.inner_text("#summary-delivered") == "1"
    assert "CONSENT_WITHDRAWN" in page.inner_text("#summary-rules")
    screenshot("supervisor-message-list")
