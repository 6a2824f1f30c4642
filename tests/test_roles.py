"""What each role may do, as the data migration grants it."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from backoffice.kernel.roles import AGENT, COLLECTIONS_MANAGER, LEGAL, ROLE_PERMISSIONS, SUPERVISOR
from cases.models import ProhibitedPhraseList
from tests.factories import user_in

pytestmark = pytest.mark.django_db

LEDGER_WRITES = [
    f"accounts.{action}_{model}"
    for action in ("add", "change", "delete")
    for model in ("customer", "product", "creditline", "bill", "payment", "paymentallocation")
]


@pytest.mark.parametrize("role", [AGENT, LEGAL, SUPERVISOR])
def test_every_role_reads_the_ledger_and_cases_and_none_edits_the_ledger(role):
    user = user_in(role)
    assert user.has_perms(
        ["accounts.view_customer", "accounts.view_bill", "cases.view_case", "cases.view_casetransition"]
    )
    assert not any(user.has_perm(permission) for permission in LEDGER_WRITES)


def test_an_agent_works_cases_but_cannot_settle_write_off_close_or_see_full_numbers():
    agent = user_in(AGENT)
    assert agent.has_perms(["cases.escalate_case", "cases.hold_case", "cases.resume_case"])
    for forbidden in (
        "cases.settle_case",
        "cases.write_off_case",
        "cases.close_case",
        "cases.change_case",
        "cases.change_dunningpolicy",
        "accounts.view_personal_data",
    ):
        assert not agent.has_perm(forbidden), forbidden


def test_a_legal_reviewer_reads_but_does_not_move_cases_or_edit_policy():
    legal = user_in(LEGAL)
    assert legal.has_perm("accounts.reveal_personal_data")
    for forbidden in ("cases.escalate_case", "cases.write_off_case", "cases.change_dunningpolicy", "cases.change_case"):
        assert not legal.has_perm(forbidden), forbidden


def test_a_supervisor_edits_policy_assigns_and_approves_write_offs_and_settlements():
    supervisor = user_in(SUPERVISOR)
    assert supervisor.has_perms(
        [
            "cases.change_dunningpolicy",
            "cases.change_case",
            "cases.write_off_case",
            "cases.settle_case",
            "cases.close_case",
            "accounts.reveal_personal_data",
        ]
    )
    assert not supervisor.has_perm("cases.delete_case")


def test_no_role_and_no_person_may_see_full_numbers_on_sight():
    # The permission that showed them is gone: a reveal, with a reason, or a whole-number search, on record.
    assert not Permission.objects.filter(codename="view_personal_data").exists()
    for role in ROLE_PERMISSIONS:
        assert not user_in(role).has_perm("accounts.view_personal_data"), role


def test_every_role_holds_exactly_the_permissions_roles_gives_it_after_all_migrations():
    # Earlier role migrations grant what exists at their point; the last one must leave every role complete.
    for role, codenames in ROLE_PERMISSIONS.items():
        permissions = Group.objects.get(name=role).permissions.select_related("content_type")
        assert {f"{p.content_type.app_label}.{p.codename}" for p in permissions} == set(codenames), role


def test_the_phrase_lists_moved_to_collections_with_their_content_type_and_grants():
    assert not ContentType.objects.filter(app_label="letters", model="prohibitedphraselist").exists()
    moved = ContentType.objects.get(app_label="cases", model="prohibitedphraselist")
    assert moved.model_class() is ProhibitedPhraseList
    assert user_in(LEGAL).has_perms(["cases.view_prohibitedphraselist", "cases.add_prohibitedphraselist"])


def test_the_collections_manager_gives_the_second_approval_that_a_supervisor_cannot():
    manager, supervisor = user_in(COLLECTIONS_MANAGER), user_in(SUPERVISOR)
    assert manager.has_perms(["cases.decide_proposal", "cases.decide_large_proposal", "cases.close_case"])
    assert not supervisor.has_perm("cases.decide_large_proposal")
