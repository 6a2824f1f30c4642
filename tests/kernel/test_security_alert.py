"""One way to raise a security alert: logged at once as a security event, mailed once the change is committed."""

import logging

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from backoffice.kernel.roles import LEGAL
from backoffice.kernel.serving import security_alert
from tests.factories import user_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _security_contacts(settings):
    settings.ADMINS = [("security", "security@lender.example")]


def alerts(caplog) -> list[tuple[str, int]]:
    return [(r.event, r.user_id) for r in caplog.records if getattr(r, "alert", False)]


def test_an_alert_is_logged_at_once_and_mailed_when_the_change_commits(
    caplog, mailoutbox, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="backoffice.security")
    with django_capture_on_commit_callbacks(execute=True):
        security_alert("reveals_over_limit", user_id=7, count=51, limit=50)
        assert alerts(caplog) == [("reveals_over_limit", 7)]
        assert mailoutbox == []  # not before the commit
    (mail,) = mailoutbox
    assert (mail.subject, mail.to) == ("[Django] Security: reveals over limit", ["security@lender.example"])
    assert mail.body == "reveals_over_limit\nuser_id: 7\ncount: 51\nlimit: 50\n"


def test_a_change_that_rolls_back_mails_nothing(mailoutbox, django_capture_on_commit_callbacks):
    def failing_change():
        with transaction.atomic():
            user_in(LEGAL, "legal-rolled-back")
            raise RuntimeError("the change fails after the alert")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        failing_change()
    assert (callbacks, mailoutbox) == ([], [])


def test_without_security_contacts_the_alert_is_only_logged(settings, caplog, mailoutbox):
    settings.ADMINS = []
    caplog.set_level(logging.INFO, logger="backoffice.security")
    security_alert("user_created", user_id=3)
    assert alerts(caplog) == [("user_created", 3)]
    assert mailoutbox == []


def test_a_role_given_to_someone_is_alerted_through_the_same_path(
    caplog, mailoutbox, django_capture_on_commit_callbacks
):
    someone = user_in(LEGAL, "legal-z")
    caplog.set_level(logging.INFO, logger="backoffice.security")
    with django_capture_on_commit_callbacks(execute=True):
        someone.groups.add(Group.objects.get(name="Supervisor"))
    assert ("user_groups_changed", someone.pk) in alerts(caplog)
    assert [m.subject for m in mailoutbox] == ["[Django] Security: user groups changed"]
    assert someone.username not in mailoutbox[0].body
