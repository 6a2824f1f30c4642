"""A legal reviewer approves a lawyer letter in the admin, in a real headless Chromium."""

import datetime

import pytest

from backoffice.kernel.roles import AGENT, LEGAL, SUPERVISOR
from cases.models import Case
from cases.workload.services import case_assign
from letters.choices import LetterStatus
from letters.models import Letter, LetterTemplate
from letters.services import letter_draft
from tests.factories import law_firm_with_lawyer, overdue_line, user_in

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-123456"


@pytest.fixture
def waiting_letter(shipped_data, run_dunning):
    reviewer, agent = user_in(LEGAL, "legal-e2e"), user_in(AGENT, "agent-e2e")
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 20))  # before the firm's templates are active: the night drafts none
    law_firm_with_lawyer(reviewer)
    template = LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans", is_active=True)
    case = Case.objects.with_customer().get(credit_line=line)
    # The agent works the case, and requests its letter from the case page.
    case_assign(case=case, actor=user_in(SUPERVISOR, "supervisor-e2e"), assignee=agent)
    letter = letter_draft(case=case, template=template, actor=agent)
    letter.refresh_from_db()  # rendered once the drafting committed
    return letter


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_a_legal_reviewer_opens_the_queue_and_approves_a_letter(page, live_server, waiting_letter, screenshot):
    log_in(page, live_server, "legal-e2e")
    page.goto(f"{live_server.url}/admin/letters/letterawaitingapproval/")
    page.click(f"text={waiting_letter.number}")
    page.wait_for_selector("#approve-form")
    assert page.inner_text("#letter-sha") == waiting_letter.pdf_sha256
    screenshot("letter-review-before-approval")
    page.click("#approve-button")
    page.wait_for_selector(".messagelist")
    screenshot("letter-review-after-approval")
    assert "approved" in page.inner_text(".messagelist").lower()
    assert page.inner_text("#letter-status") == "Approved"
    letter = Letter.objects.get(pk=waiting_letter.pk)
    assert (letter.status, letter.approved_by.username, letter.approved_sha256) == (
        LetterStatus.APPROVED,
        "legal-e2e",
        waiting_letter.pdf_sha256,
    )


def test_an_agent_sees_no_approval_on_the_review_page(page, live_server, waiting_letter, screenshot):
    log_in(page, live_server, "agent-e2e")
    page.goto(f"{live_server.url}/admin/letters/letter/{waiting_letter.pk}/change/")
    page.wait_for_selector("#letter-status")
    assert page.locator("#approve-form").count() == 0
    screenshot("letter-review-as-agent")
    assert Letter.objects.get(pk=waiting_letter.pk).status == LetterStatus.PENDING_APPROVAL
