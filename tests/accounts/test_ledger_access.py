"""Ledger screens show a collection agent only the customers, lines, bills and payments behind their cases."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import payment_post
from cases.models import Case
from cases.workload.services import case_assign
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_lines(run_dunning, agent, supervisor):
    """Two overdue lines with a payment each; only the first one's case is assigned to ``agent``."""
    mine, other = overdue_line(due=datetime.date(2026, 1, 10)), overdue_line(due=datetime.date(2026, 1, 10))
    for line, name in ((mine, "甲客户"), (other, "乙客户")):
        line.customer.name = name
        line.customer.save()
        payment_post(
            credit_line=line,
            external_reference=f"PAY-{line.number}",
            amount="10.00",
            channel="alipay",
            received_at=timezone.now() - datetime.timedelta(hours=1),
        )
    run_dunning(datetime.date(2026, 3, 1))
    case_assign(case=Case.objects.get(credit_line=mine), actor=supervisor, assignee=agent)
    return mine, other


LISTS = [
    ("accounts_customer", lambda line: line.customer.name),
    ("accounts_creditline", lambda line: line.number),
    ("accounts_bill", lambda line: line.number),
    ("accounts_payment", lambda line: f"PAY-{line.number}"),
    ("accounts_paymentallocation", lambda line: f"PAY-{line.number}"),
]


@pytest.mark.parametrize(("screen", "shown"), LISTS)
def test_an_agent_lists_only_the_ledger_rows_of_their_own_cases(client, two_lines, agent, screen, shown):
    mine, other = two_lines
    client.force_login(agent)
    page = client.get(reverse(f"admin:{screen}_changelist")).content.decode()
    assert shown(mine) in page
    assert shown(other) not in page


@pytest.mark.parametrize(("screen", "shown"), LISTS)
def test_supervisors_list_the_whole_ledger(client, two_lines, supervisor, legal, screen, shown):
    for viewer in (supervisor, legal):
        client.force_login(viewer)
        page = client.get(reverse(f"admin:{screen}_changelist")).content.decode()
        assert shown(two_lines[0]) in page
        assert shown(two_lines[1]) in page


def test_an_agent_cannot_open_another_customers_page_or_line(client, two_lines, agent):
    mine, other = two_lines
    client.force_login(agent)
    assert client.get(reverse("admin:accounts_customer_change", args=[mine.customer_id])).status_code == 200
    for screen, pk in (("accounts_customer", other.customer_id), ("accounts_creditline", other.pk)):
        response = client.get(reverse(f"admin:{screen}_change", args=[pk]), follow=True)
        assert other.customer.name not in response.content.decode()
        assert "doesn’t exist" in response.content.decode()


def test_a_customers_history_is_closed_to_every_viewer_and_outside_their_scope_not_even_found(client, two_lines, agent):
    # Past versions show full numbers, unmasked and unrecorded: nobody opens them, and outside the
    # viewer's scope the customer is not found at all.
    mine, other = two_lines
    client.force_login(agent)
    assert client.get(reverse("admin:accounts_customer_history", args=[mine.customer_id])).status_code == 403
    version = other.customer.history.first()
    for url in (
        reverse("admin:accounts_customer_history", args=[other.customer_id]),
        reverse("admin:accounts_customer_simple_history", args=[other.customer_id, version.pk]),
        reverse("admin:accounts_customer_history", args=["not-a-number"]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert other.customer.name not in response.content.decode()
