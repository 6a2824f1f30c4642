"""The role × URL matrix: every admin and API URL, GET as every role, answers as ``EXPECTED`` says.

The URLs come from the resolver and the admin registry (``tests/role_urls.py``), their ids from the
demo data: for a row that only some roles see, one row every such role sees and one ("another's")
that the agent or the agency agent does not. The matrix observed is written to
``test-artifacts/role_url_matrix.md`` in ``EXPECTED``'s own form, so a new URL's line is copied from there
once its answers have been read and agreed.

Answers: a status code; ``login``, the sign-in page; ``→/path/``, a redirect there (``→/admin/`` is
the admin's answer for a row that does not exist, the same for a row outside one's view).
"""

import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from backoffice.demo import DEMO_AGENCY
from cases.agencies.services import case_place
from cases.models import Agency, Case, Promise
from cases.promises.services import promise_record
from tests.role_url_expected import EXPECTED
from tests.role_urls import role_urls

pytestmark = pytest.mark.django_db

ARTIFACT = Path(__file__).resolve().parents[1] / "test-artifacts" / "role_url_matrix.md"
# The roles, as the matrix's columns, and the demo login of each.
ROLES = {
    "agent": "agent1",
    "agency": "agency1",
    "legal": "legal1",
    "supervisor": "supervisor1",
    "manager": "manager1",
    "superuser": "admin",
    "anonymous": None,
}
# What anyone may read without signing in.
PUBLIC = {"/api/v1/schema/", "/api/v1/docs/"}
# The answers for a row one may not see: refused, not found, or the admin's "no such row" redirect.
HIDDEN = {"403", "404", "→/admin/"}


def answer(response) -> str:
    """The answer as the matrix shows it: the status, or where a redirect leads (row ids as N)."""
    if response.status_code not in (301, 302):
        return str(response.status_code)
    location = urlparse(response["Location"]).path
    return "login" if location == "/admin/login/" else "→" + re.sub(r"/\d+/", "/N/", location)


def table(rows: dict[str, list[str]]) -> str:
    """The matrix as a Markdown table, a URL a line, a role a column."""
    width = max(len(key) for key in rows)
    lines = [f"| {'URL'.ljust(width)} | " + " | ".join(ROLES) + " |", f"|{'-' * (width + 2)}|" + "---|" * len(ROLES)]
    for key, answers in rows.items():
        lines.append(
            f"| {key.ljust(width)} | " + " | ".join(a.ljust(len(r)) for a, r in zip(answers, ROLES, strict=True)) + " |"
        )
    return "\n".join(lines) + "\n"


def parsed(text: str) -> dict[str, list[str]]:
    """``EXPECTED`` as {URL: the answer for each role}."""
    rows = {}
    for line in text.strip().splitlines()[2:]:
        key, *answers = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[key] = answers
    return rows


@pytest.fixture
def users(settings):
    settings.DEBUG = True  # the demo seeds only with DEBUG on
    call_command("seed_demo", "--customers", "12", "--seed", "7", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.DEBUG = False
    found = {role: User.objects.get(username=name) for role, name in ROLES.items() if name}
    # A small demo may place no case with the agency: place one, so that the agency agent has rows to see.
    agency = Agency.objects.get(name=DEMO_AGENCY)
    if not Case.objects.filter(agency=agency).exists():
        case = Case.objects.open().exclude(assignee=found["agent"]).order_by("pk").first()
        case_place(case=case, agency=agency, actor=found["supervisor"])
    # Which promises the demo holds depends on the day it is seeded: make sure of one on the agent's case
    # and one on a case neither agent sees, so that the same pages are listed every day. Recording
    # promises is the agents' work, not the supervisors': the demo's superuser records them.
    admin = User.objects.get(username="admin")
    open_cases = Case.objects.open().order_by("pk")
    for theirs, cases in (
        (Q(case__assignee=found["agent"]), open_cases.filter(assignee=found["agent"])),
        (~Q(case__assignee=found["agent"]) & Q(case__agency=None), open_cases.exclude(assignee=found["agent"])),
    ):
        if not Promise.objects.filter(theirs).exists():
            case = cases.filter(agency=None).first()
            promise_record(case=case, actor=admin, amount="100", due_date=timezone.localdate())
    return {**found, "anonymous": AnonymousUser()}


def observed(users: dict, client) -> dict[str, list[str]]:
    """Every URL's answer for every role, written to the artifact."""
    started = time.process_time()
    urls = role_urls(users)
    answers = {url.key: [] for url in urls}
    for role, user in users.items():
        client.logout()
        if role != "anonymous":
            client.force_login(user)
        for url in urls:
            answers[url.key].append(answer(client.get(url.path)))
    took = time.process_time() - started
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(table(answers) + f"\n{len(urls)} URLs × {len(ROLES)} roles, {took:.1f} s of CPU.\n")
    return answers


def test_every_url_answers_every_role_as_the_table_says(users, client):
    found = observed(users, client)
    assert not {key: answers for key, answers in found.items() if any(a.startswith("5") for a in answers)}
    expected = parsed(EXPECTED)
    unlisted = [key for key in found if key not in expected]
    assert not unlisted, f"URLs not in EXPECTED (their answers are in {ARTIFACT}): {unlisted}"
    wrong = {
        key: {role: (want, got) for role, want, got in zip(ROLES, expected[key], answers, strict=True) if want != got}
        for key, answers in found.items()
        if answers != expected[key]
    }
    assert not wrong
    assert not [key for key in expected if key not in found], "EXPECTED lists URLs that no longer exist"
    # Whatever the table says: nothing but the API's documentation is read signed out, and no row
    # outside the agent's or the agency agent's view is shown to them.
    assert {key for key, answers in found.items() if answers[-1] == "200"} == PUBLIC
    for key, answers in found.items():
        if key.endswith("another's"):
            assert answers[0] in HIDDEN, key
            assert answers[1] in HIDDEN, key
        if key.endswith("the agency's"):
            assert answers[0] in HIDDEN, key
