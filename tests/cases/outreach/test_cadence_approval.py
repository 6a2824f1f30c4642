"""A policy's cadence of reminders changes as its thresholds do: proposed by one supervisor, approved by another."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.roles import SUPERVISOR
from cases.models import DunningPolicy
from cases.outreach.approvals import reminder_cadence_propose
from cases.outreach.services import reminder_cadence_of, reminder_cadence_replace
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return DunningPolicy.objects.get(code="fast-track")


def policy_form(policy: DunningPolicy) -> dict:
    """The policy's change form as the admin sends it back, with its cadence inline unchanged."""
    data = {
        "code": policy.code,
        "name": policy.name,
        "reminder_from_dpd": policy.reminder_from_dpd,
        "collection_from_dpd": policy.collection_from_dpd,
        "legal_from_dpd": policy.legal_from_dpd,
        "legal_min_balance_fen": policy.legal_min_balance_fen,
        "freeze_line_on_collection": "on" if policy.freeze_line_on_collection else "",
        "max_hold_days": policy.max_hold_days,
        "promise_grace_days": policy.promise_grace_days,
    }
    rules = list(policy.reminder_rules.order_by("pk"))
    data |= {"reminder_rules-TOTAL_FORMS": len(rules), "reminder_rules-INITIAL_FORMS": len(rules)}
    for index, rule in enumerate(rules):
        prefix = f"reminder_rules-{index}-"
        data |= {f"{prefix}id": rule.pk, f"{prefix}policy": policy.pk}
        for name in ("kind", "stage", "channel", "days", "template_code"):
            data[prefix + name] = getattr(rule, name)
        data[f"{prefix}every_days"] = rule.every_days or ""
    return {name: value for name, value in data.items() if value != ""}


def test_a_supervisors_cadence_edit_waits_for_a_second_supervisor_then_applies(client, supervisor, policy):
    before = reminder_cadence_of(policy)
    client.force_login(supervisor)
    data = policy_form(policy)
    data["reminder_rules-0-days"] = "5,3,1"
    data["reminder_rules-1-DELETE"] = "on"
    response = client.post(reverse("admin:cases_dunningpolicy_change", args=[policy.pk]), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert reminder_cadence_of(policy) == before  # nothing changed yet
    proposal = ChangeProposal.objects.get(kind="reminder_cadence_change")
    assert response["Location"] == reverse("admin:backoffice_changeproposal_change", args=[proposal.pk])
    (was, proposed) = proposal.diff["cadence"]
    assert (len(was), len(proposed)) == (len(before), len(before) - 1)
    refused_to(proposal, supervisor, superuser())
    approved_by(proposal, user_in(SUPERVISOR, "supervisor-second"))
    assert reminder_cadence_of(policy) == proposed
    assert "5,3,1" in [rule["days"] for rule in reminder_cadence_of(policy)]


def test_the_cadence_form_sent_back_unchanged_proposes_nothing(client, supervisor, policy):
    client.force_login(supervisor)
    response = client.post(reverse("admin:cases_dunningpolicy_change", args=[policy.pk]), policy_form(policy))
    assert response.status_code == 302
    assert not ChangeProposal.objects.filter(kind="reminder_cadence_change").exists()


def test_a_person_cannot_replace_a_cadence_but_through_an_approved_change(supervisor, policy):
    before = reminder_cadence_of(policy)
    with pytest.raises(PermissionDenied, match="only by an approved change"):
        reminder_cadence_replace(policy=policy, rules=before[:1], actor=supervisor)
    assert reminder_cadence_of(policy) == before


def test_a_cadence_change_proposed_before_the_cadence_moved_is_stale(supervisor, policy):
    cadence = reminder_cadence_of(policy)
    proposal = reminder_cadence_propose(policy=policy, rules=cadence[:2], actor=supervisor)
    # Meanwhile the cadence moved (a migration's data change, made by the system): approving the
    # proposal would undo what its maker never saw.
    reminder_cadence_replace(policy=policy, rules=cadence[:3], actor=None)
    stale_refused(proposal, user_in(SUPERVISOR, "supervisor-c"))
    assert reminder_cadence_of(policy) == cadence[:3]
