"""Every screen works under the Content Security Policy, in a real headless Chromium with the policy on.

The browser reports each thing the policy refuses twice: as a ``securitypolicyviolation`` event in the
page (collected by a script the browser runs before the page's own) and as a console message. A screen
passes when neither said anything, and when it shows what it is for (the chart drawn, the PDF framed,
the QR code decoded by the browser).
"""

import datetime

import pytest

from backoffice.kernel.roles import AGENT, LEGAL, SUPERVISOR
from backoffice.reports.models import LineDay
from cases.models import Case
from cases.workload.services import case_assign
from letters.models import LetterTemplate
from letters.services import letter_draft
from tests.e2e.test_reports import painted
from tests.factories import ProductFactory, law_firm_with_lawyer, overdue_line, user_in

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-123456"

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


class Violations:
    """What the policy refused on the screens opened so far."""

    def __init__(self, page: object) -> None:
        """Listen to the page's console and to every document's violation events."""
        self.page = page
        self.console: list[str] = []
        page.add_init_script(COLLECT_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message: object) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def on_screen(self) -> list[str]:
        """Return the violations reported by the documents now open (the page and its frames), and the console's."""
        events = []
        # A frame of Chromium's PDF viewer is not ours to ask; its refusals would reach the console.
        for frame in self.page.frames:
            if frame.url.startswith("http"):
                events.extend(frame.evaluate("window.__cspViolations || []"))
        return events + self.console


def open_screen(page: object, violations: Violations, url: str, selector: str) -> None:
    """Open a screen, wait for what shows it worked, check it came with the policy and nothing was refused."""
    response = page.goto(url)
    page.wait_for_selector(selector)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, (url, policy)
    assert "unsafe-inline" not in policy, (url, policy)
    page.wait_for_load_state("networkidle")
    assert violations.on_screen() == [], url


def log_in(page: object, live_server: object, username: str) -> None:
    """Sign in through the login page, as a fresh browser."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.fixture
def violations(page):
    return Violations(page)


@pytest.fixture
def office(shipped_data, run_dunning):
    """A case with its letter waiting for approval, and a day of the dashboard's figures."""
    legal, agent = user_in(LEGAL, "legal-csp"), user_in(AGENT, "agent-csp")
    supervisor = user_in(SUPERVISOR, "supervisor-csp")
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 20))
    law_firm_with_lawyer(legal)
    case = Case.objects.with_customer().get(credit_line=line)
    case_assign(case=case, actor=supervisor, assignee=agent)
    template = LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans", is_active=True)
    letter = letter_draft(case=case, template=template, actor=agent)
    product = ProductFactory()
    for bucket, lines, overdue in (("M0", 40, 0), ("M1", 12, 360_000), ("M4", 2, 300_000)):
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
    return {"case": case, "letter": letter}


def test_the_public_pages_and_the_api_docs_work_under_the_policy(page, live_server, violations):
    open_screen(page, violations, f"{live_server.url}/admin/login/", "#id_otp_token")
    open_screen(page, violations, f"{live_server.url}/verify/", "input[name=code]")
    open_screen(page, violations, f"{live_server.url}/verify/LF-2026-000001/WRONG/", "#verification-result")
    open_screen(page, violations, f"{live_server.url}/api/v1/docs/", ".opblock-summary-path")
    for _attempt in range(10):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "nobody-here")
        page.fill("#id_password", "wrong")
        page.click("input[type=submit]")
    page.wait_for_selector("#locked-out")
    assert violations.on_screen() == []


def test_an_agent_s_queue_and_case_page_work_under_the_policy(page, live_server, office, violations):
    log_in(page, live_server, "agent-csp")
    open_screen(page, violations, f"{live_server.url}/admin/cases/mycase/", "#work-next")
    open_screen(page, violations, f"{live_server.url}/admin/cases/case/{office['case'].pk}/change/", "#log-contact")
    page.click("#log-contact")
    page.wait_for_selector("select[name=channel]")
    assert violations.on_screen() == []
    # The language switch submits itself, from a script file rather than an inline handler.
    page.select_option("#language-switch select", "zh-hans")
    page.wait_for_selector("html[lang=zh-hans]")
    assert violations.on_screen() == []


def test_the_letter_review_page_frames_its_pdf_under_the_policy(page, live_server, office, violations):
    log_in(page, live_server, "legal-csp")
    letter = office["letter"]
    open_screen(page, violations, f"{live_server.url}/admin/letters/letter/{letter.pk}/change/", "#approve-form")
    # The PDF is framed and handed to Chromium's PDF viewer (a frame of its own inside ours).
    for _wait in range(50):
        framed = [frame.url for frame in page.frames]
        if any(url.startswith("chrome-extension://") for url in framed):
            break
        page.wait_for_timeout(200)
    assert any(url.endswith(f"/letters/letter/{letter.pk}/pdf/") for url in framed), framed
    assert any(url.startswith("chrome-extension://") for url in framed), framed
    assert violations.on_screen() == []


def test_the_dashboard_reports_and_admin_lists_work_under_the_policy(page, live_server, office, violations):
    log_in(page, live_server, "supervisor-csp")
    open_screen(page, violations, f"{live_server.url}/admin/reports/dashboard/", "#card-inventory")
    open_screen(page, violations, f"{live_server.url}/admin/reports/", "#content-main")
    report = f"{live_server.url}/admin/reports/inventory/?date=2026-11-30"
    open_screen(page, violations, report, "#table-by-bucket")
    assert painted(page, "#by-bucket-chart") > 0.01
    open_screen(page, violations, f"{live_server.url}/admin/", "#content-main")
    open_screen(page, violations, f"{live_server.url}/admin/cases/case/", "#result_list")
    open_screen(page, violations, f"{live_server.url}/admin/cases/dunningpolicy/add/", "#dunningpolicy_form")
    open_screen(page, violations, f"{live_server.url}/admin/backoffice/signinfailure/", "#changelist")
    assert violations.on_screen() == []


def test_the_second_factor_page_shows_its_qr_code_under_the_policy(page, live_server, office, violations):
    log_in(page, live_server, "supervisor-csp")
    page.click("#second-factor-link")
    page.wait_for_selector("#second-factor-qr")
    assert page.eval_on_selector("#second-factor-qr", "(image) => image.complete && image.naturalWidth") > 0
    assert violations.on_screen() == []


def test_a_refused_inline_style_is_seen_by_these_tests(page, live_server, violations):
    open_screen(page, violations, f"{live_server.url}/verify/", "input[name=code]")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">injected</p>')")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert any(violation.startswith("style-src") for violation in violations.on_screen())
