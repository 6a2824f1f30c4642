"""Users are deactivated, never deleted, and every change to who may do what is logged and mailed, by ids only."""

import json
import logging

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from backoffice.kernel.people import Deactivation
from backoffice.kernel.roles import AGENT, LEGAL, SUPERVISOR
from tests.factories import user_in

pytestmark = pytest.mark.django_db


class SecurityLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.logger = logging.getLogger("backoffice.security")
        self.setFormatter(self.logger.handlers[0].formatter)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def __enter__(self) -> "SecurityLines":
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("it-admin", password="pw-123456")


def test_nobody_deletes_a_user_or_a_role_in_the_admin_not_even_a_superuser(client, admin_user):
    leaving = user_in(AGENT, "leaving-agent")
    client.force_login(admin_user)
    assert client.get(reverse("admin:auth_user_delete", args=[leaving.pk])).status_code == 403
    assert client.post(reverse("admin:auth_user_delete", args=[leaving.pk]), {"post": "yes"}).status_code == 403
    listing = client.get(reverse("admin:auth_user_changelist"))
    assert b"delete_selected" not in listing.content
    role = Group.objects.get(name=SUPERVISOR)
    assert client.get(reverse("admin:auth_group_delete", args=[role.pk])).status_code == 403
    assert User.objects.filter(pk=leaving.pk).exists()


def test_a_user_leaving_is_deactivated_and_the_change_is_a_security_event(client, admin_user):
    leaving = user_in(AGENT, "leaving-agent")
    client.force_login(admin_user)
    with SecurityLines() as log:
        leaving.is_active = False
        leaving.save()
    (event,) = [line for line in log.lines if line["event"] == "user_changed"]
    assert (event["user_id"], event["changed"], event["is_active"]) == (leaving.pk, "is_active", False)


def test_making_someone_a_second_approver_is_logged_with_who_did_it_and_mailed(
    client, admin_user, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.ADMINS = [("security", "security@lender.example")]
    someone = user_in(AGENT, "agent-x")
    client.force_login(admin_user)
    legal = Group.objects.get(name=LEGAL)
    form = client.get(reverse("admin:auth_user_change", args=[someone.pk])).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and key not in ("password",)}
    data.update(
        groups=[legal.pk, *someone.groups.values_list("pk", flat=True)],
        user_permissions=[],
        date_joined_0=someone.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=someone.date_joined.strftime("%H:%M:%S"),
        is_active="on",
        is_staff="on",
        **{"deactivations-TOTAL_FORMS": 0, "deactivations-INITIAL_FORMS": 0},
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    with SecurityLines() as log, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:auth_user_change", args=[someone.pk]), data)
    assert response.status_code == 302, response.content[:2000]
    assert legal in someone.groups.all()
    changes = [line for line in log.lines if line["event"] == "user_groups_changed"]
    assert changes
    assert all(line["actor_id"] == admin_user.pk and line["user_id"] == someone.pk for line in changes)
    assert str(legal.pk) in ",".join(line["group_ids"] for line in changes)
    mailed = [message for message in smtp_server.received if "user groups changed" in message["Subject"]]
    assert mailed
    assert mailed[0]["To"] == "security@lender.example"
    body = mailed[0].get_body(("plain",)).get_content()
    assert "agent-x" not in body  # ids, not names
    assert f"user_id: {someone.pk}" in body


def test_a_new_superuser_and_a_permission_given_to_a_role_are_security_events():
    with SecurityLines() as log:
        root = User.objects.create_superuser("second-root", password="pw-123456")
        Group.objects.get(name=AGENT).permissions.add(Permission.objects.get(codename="approve_letter"))
    events = {line["event"]: line for line in log.lines}
    assert events["user_created"]["user_id"] == root.pk
    assert events["user_created"]["is_superuser"] is True
    assert events["permissions_changed"]["group_id"] == Group.objects.get(name=AGENT).pk


def test_the_people_list_filters_by_its_declared_filters_only_and_a_role_past_the_columns_range_is_no_match(
    client, admin_user
):
    client.force_login(admin_user)
    listing = reverse("admin:auth_user_changelist")
    huge = "9" * 30
    assert client.get(listing, {"groups__exact": huge}).status_code == 400  # undeclared: refused, not a 500
    answer = client.get(listing, {"groups__id__exact": huge})
    assert answer.status_code == 200
    assert list(answer.context["cl"].result_list) == []
    role = Group.objects.get(name=AGENT)
    user_in(AGENT, "filtered-agent")
    assert [u.username for u in client.get(listing, {"groups__id__exact": role.pk}).context["cl"].result_list] == [
        "filtered-agent"
    ]


def user_form(client, someone: User) -> dict:
    """The user's change form as the admin sends it back, unchanged."""
    form = client.get(reverse("admin:auth_user_change", args=[someone.pk])).context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and key not in ("password",)}
    data.update(
        groups=list(someone.groups.values_list("pk", flat=True)),
        user_permissions=[],
        date_joined_0=someone.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=someone.date_joined.strftime("%H:%M:%S"),
        is_staff="on",
        **{"deactivations-TOTAL_FORMS": 0, "deactivations-INITIAL_FORMS": 0},
    )
    for key in ("date_joined", "last_login", "is_active", "is_superuser"):
        data.pop(key, None)
    return data


def test_deactivating_a_user_needs_a_reason_which_is_kept_with_who_deactivated_them(client, admin_user):
    leaving = user_in(AGENT, "agent-leaving")
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[leaving.pk])
    refused = client.post(url, user_form(client, leaving))  # Active unticked, no reason
    assert refused.status_code == 200
    assert "deactivation_reason" in refused.context["adminform"].form.errors
    assert User.objects.get(pk=leaving.pk).is_active
    data = user_form(client, leaving) | {"deactivation_reason": "已离职（2026-12-01）"}
    assert client.post(url, data).status_code == 302
    assert not User.objects.get(pk=leaving.pk).is_active
    (kept,) = Deactivation.objects.filter(user=leaving)
    assert (kept.reason, kept.deactivated_by) == ("已离职（2026-12-01）", admin_user)
    assert "已离职（2026-12-01）" in client.get(url).content.decode()


def test_an_edit_that_keeps_the_user_active_asks_for_no_reason(client, admin_user):
    staying = user_in(AGENT, "agent-staying")
    client.force_login(admin_user)
    data = user_form(client, staying) | {"is_active": "on", "first_name": "敏"}
    assert client.post(reverse("admin:auth_user_change", args=[staying.pk]), data).status_code == 302
    assert User.objects.get(pk=staying.pk).first_name == "敏"
    assert not Deactivation.objects.exists()
