"""Edits of a rule pack (the contact window, the caps) wait for a second supervisor."""

import datetime

import pytest
from django.urls import reverse

from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.roles import SUPERVISOR
from cases.models import RulePack
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


def form_data(pack: RulePack, **changes) -> dict:
    data = {
        "code": pack.code,
        "name": pack.name,
        "window_start": pack.window_start.strftime("%H:%M"),
        "window_end": pack.window_end.strftime("%H:%M"),
        "daily_connected_cap": pack.daily_connected_cap,
        "daily_attempt_cap": pack.daily_attempt_cap,
        "third_party_after_failures": pack.third_party_after_failures,
        "rolling_call_cap": pack.rolling_call_cap or "",
        "rolling_days": pack.rolling_days,
        "quiet_days_after_conversation": pack.quiet_days_after_conversation or "",
        "daily_message_cap": pack.daily_message_cap,
        "weekly_message_cap": pack.weekly_message_cap,
    }
    return {**data, **changes}


@pytest.fixture
def pack(db):
    return RulePack.objects.get(code="cn-default")


def proposed_late_window(client, pack, supervisor) -> ChangeProposal:
    client.force_login(supervisor)
    url = reverse("admin:cases_rulepack_change", args=[pack.pk])
    response = client.post(url, form_data(pack, window_end="23:30", daily_connected_cap=5))
    assert response.status_code == 302
    return ChangeProposal.objects.get()


def test_widening_the_contact_window_changes_nothing_until_a_second_supervisor_approves(client, pack, supervisor):
    proposal = proposed_late_window(client, pack, supervisor)
    pack.refresh_from_db()
    assert (pack.window_end, pack.daily_connected_cap) == (datetime.time(22, 0), 3)
    assert proposal.diff == {"window_end": ["22:00:00", "23:30:00"], "daily_connected_cap": ["3", "5"]}
    refused_to(proposal, supervisor, superuser())
    second = user_in(SUPERVISOR, "supervisor-second")
    approved = approved_by(proposal, second)
    pack.refresh_from_db()
    assert (pack.window_end, pack.daily_connected_cap) == (datetime.time(23, 30), 5)
    assert (approved.maker, approved.checker) == (supervisor, second)


def test_a_rule_pack_edited_since_is_refused_as_stale(client, pack, supervisor):
    proposal = proposed_late_window(client, pack, supervisor)
    RulePack.objects.filter(pk=pack.pk).update(daily_attempt_cap=4)
    stale_refused(proposal, user_in(SUPERVISOR, "supervisor-second"))
    assert RulePack.objects.get(pk=pack.pk).window_end == datetime.time(22, 0)
