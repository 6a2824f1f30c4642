"""Beat's schedule in the admin: supervisors see it, and a change of the night's entry waits for a second
supervisor; nothing else in the admin changes the night."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.roles import COLLECTIONS_MANAGER, LEGAL, SUPERVISOR
from backoffice.schedule.entries import NIGHT_TASK, crontab_time, night_entry
from backoffice.schedule.services import NIGHT_SCHEDULE_CHANGE, night_schedule_propose
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


def change_url(entry: PeriodicTask) -> str:
    return reverse("admin:django_celery_beat_periodictask_change", args=[entry.pk])


def another_entry(name: str = "monthly export", **fields) -> PeriodicTask:
    every_hour, _made = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    return PeriodicTask.objects.create(name=name, task="letters.send_due", interval=every_hour, **fields)


def propose_in_the_admin(client, person, night, **form):
    client.force_login(person)
    return client.post(change_url(night), {"time": "00:10", "enabled": "on", **form})


def test_the_data_migration_schedules_the_night_at_ten_past_midnight_business_time(night):
    assert night.name == "Nightly dunning run"
    assert night.task == NIGHT_TASK
    assert night.enabled
    crontab = night.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week) == (
        "10",
        "0",
        "*",
        "*",
        "*",
    )
    assert str(crontab.timezone) == settings.TIME_ZONE == "Asia/Shanghai"


def test_a_supervisor_sees_every_entry_and_may_edit_only_the_nights(client, supervisor, night):
    other = another_entry()
    client.force_login(supervisor)
    listing = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert listing.status_code == 200
    assert "Nightly dunning run" in listing.content.decode()
    assert "monthly export" in listing.content.decode()
    page = client.get(change_url(other))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # shown, not editable
    assert client.post(change_url(other), {"name": "renamed", "enabled": ""}).status_code == 403
    assert PeriodicTask.objects.get(pk=other.pk).name == "monthly export"
    assert 'name="time"' in client.get(change_url(night)).content.decode()


def test_a_role_without_the_schedule_does_not_see_it(client, night):
    client.force_login(user_in(LEGAL))
    assert client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 403


def test_a_supervisors_save_of_the_nights_entry_is_a_proposal_and_changes_nothing(client, supervisor, night):
    # Fields the night's form does not have are ignored, whatever the request carries.
    response = propose_in_the_admin(client, supervisor, night, time="01:30", task="letters.send_due", name="other")
    proposal = ChangeProposal.objects.get(kind=NIGHT_SCHEDULE_CHANGE)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:backoffice_changeproposal_change", args=[proposal.pk])
    assert crontab_time(night_entry()) == "00:10"
    assert (proposal.maker, proposal.status, proposal.target_id) == (supervisor, ChangeStatus.PENDING, night.pk)
    assert proposal.diff == {"time": ["00:10", "01:30"]}
    assert (night_entry().task, night_entry().name) == (NIGHT_TASK, "Nightly dunning run")


def test_the_proposal_flow_end_to_end_maker_proposes_a_second_supervisor_approves(client, supervisor, night):
    propose_in_the_admin(client, supervisor, night, time="01:30", enabled="")
    proposal = ChangeProposal.objects.get(kind=NIGHT_SCHEDULE_CHANGE)
    assert proposal.diff == {"time": ["00:10", "01:30"], "enabled": [True, False]}
    refused_to(proposal, supervisor, superuser(), user_in(LEGAL))
    page = client.get(reverse("admin:backoffice_changeproposal_change", args=[proposal.pk])).content.decode()
    assert "01:30" in page
    checker = user_in(SUPERVISOR, "supervisor-second")
    client.force_login(checker)
    decide = reverse("admin:backoffice_changeproposal_decide", args=[proposal.pk, "approve"])
    assert client.post(decide, {"confirm": "yes"}).status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.maker, proposal.checker) == (ChangeStatus.APPROVED, supervisor, checker)
    entry = night_entry()
    assert crontab_time(entry) == "01:30"
    assert str(entry.crontab.timezone) == settings.TIME_ZONE
    assert entry.enabled is False


def test_a_collections_manager_approves_as_a_supervisor_does(supervisor, night):
    proposal = night_schedule_propose(entry=night, values={"time": "02:00"}, actor=supervisor)
    approved_by(proposal, user_in(COLLECTIONS_MANAGER, "manager-t"))
    assert crontab_time(night_entry()) == "02:00"


def test_the_crontab_the_night_shared_is_left_as_it_was(supervisor, night):
    sharing = PeriodicTask.objects.create(
        name="shares the night's crontab", task="letters.send_due", crontab=night.crontab
    )
    proposal = night_schedule_propose(entry=night, values={"time": "03:45"}, actor=supervisor)
    approved_by(proposal, user_in(SUPERVISOR, "supervisor-second"))
    assert crontab_time(PeriodicTask.objects.get(pk=sharing.pk)) == "00:10"
    assert crontab_time(night_entry()) == "03:45"


def test_a_superusers_save_is_a_proposal_too_and_a_superuser_never_approves(client, supervisor, night):
    it_admin = superuser()
    propose_in_the_admin(client, it_admin, night, time="04:00")
    proposal = ChangeProposal.objects.get(kind=NIGHT_SCHEDULE_CHANGE)
    assert (proposal.maker, proposal.status) == (it_admin, ChangeStatus.PENDING)
    assert crontab_time(night_entry()) == "00:10"
    approved_by(proposal, supervisor)
    proposal = night_schedule_propose(entry=night_entry(), values={"time": "05:00"}, actor=supervisor)
    refused_to(proposal, it_admin)


def test_a_time_that_is_not_one_is_refused_naming_the_field_and_the_value(client, supervisor, night):
    page = propose_in_the_admin(client, supervisor, night, time="25:99")
    assert page.status_code == 200
    assert "Enter a valid time." in page.content.decode()
    assert not ChangeProposal.objects.exists()
    with pytest.raises(ValidationError, match="time '7pm' is not a time of day as HH:MM"):
        night_schedule_propose(entry=night, values={"time": "7pm"}, actor=supervisor)


def test_a_save_that_changes_nothing_is_refused_with_the_reason(client, supervisor, night):
    response = propose_in_the_admin(client, supervisor, night)
    assert response.status_code == 302
    assert response["Location"] == change_url(night)
    assert not ChangeProposal.objects.exists()
    page = client.get(change_url(night)).content.decode()
    assert "This changes nothing" in page


def test_an_entry_changed_since_the_proposal_is_refused_as_stale(supervisor, night):
    proposal = night_schedule_propose(entry=night, values={"time": "01:00"}, actor=supervisor)
    PeriodicTask.objects.filter(pk=night.pk).update(enabled=False)
    stale_refused(proposal, user_in(SUPERVISOR, "supervisor-second"))
    assert crontab_time(night_entry()) == "00:10"


def test_no_screen_changes_or_deletes_the_nights_crontab_or_entry_directly(client, night):
    client.force_login(superuser())
    crontab_url = reverse("admin:django_celery_beat_crontabschedule_change", args=[night.crontab_id])
    form = {"minute": "0", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}
    assert client.post(crontab_url, {**form, "timezone": settings.TIME_ZONE}).status_code == 403
    delete_crontab = reverse("admin:django_celery_beat_crontabschedule_delete", args=[night.crontab_id])
    assert client.post(delete_crontab, {"post": "yes"}).status_code == 403
    assert (
        client.post(
            reverse("admin:django_celery_beat_periodictask_delete", args=[night.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    listing = client.get(reverse("admin:django_celery_beat_periodictask_changelist")).content.decode()
    assert 'name="action"' not in listing  # no bulk enable, disable, toggle, run or delete
    assert crontab_time(night_entry()) == "00:10"
    assert night_entry().enabled


def test_a_superuser_manages_other_entries_but_cannot_add_a_second_night(client, night):
    client.force_login(superuser())
    spare = CrontabSchedule.objects.create(minute="0", hour="6", timezone=settings.TIME_ZONE)
    add = reverse("admin:django_celery_beat_periodictask_add")
    form = {"name": "second night", "task": NIGHT_TASK, "enabled": "on", "crontab": spare.pk, "args": "[]"}
    page = client.post(add, {**form, "kwargs": "{}", "headers": "{}"})
    assert page.status_code == 200
    assert f"task &#x27;{NIGHT_TASK}&#x27; runs from the night&#x27;s own entry only." in page.content.decode()
    assert PeriodicTask.objects.filter(task=NIGHT_TASK).count() == 1
    other = another_entry()
    assert (
        client.post(
            reverse("admin:django_celery_beat_periodictask_delete", args=[other.pk]), {"post": "yes"}
        ).status_code
        == 302
    )
    assert not PeriodicTask.objects.filter(pk=other.pk).exists()


def test_the_polls_from_the_settings_are_shown_and_never_edited(client, night):
    poll = another_entry(name="webhooks-poll")
    client.force_login(superuser())
    assert client.post(change_url(poll), {"name": "webhooks-poll", "task": "x"}).status_code == 403
    interval_url = reverse("admin:django_celery_beat_intervalschedule_change", args=[poll.interval_id])
    assert client.post(interval_url, {"every": "999", "period": "days"}).status_code == 403


def test_the_nights_entry_speaks_chinese_to_a_chinese_supervisor(client, supervisor, night):
    client.force_login(supervisor)
    page = client.get(change_url(night), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "时间（业务时间）" in page
    listing = client.get(reverse("admin:django_celery_beat_periodictask_changelist"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "由主管提出，另一位主管批准" in listing.content.decode()


def test_the_list_says_each_crontab_in_the_readers_language_on_a_24_hour_clock(client, supervisor, night):
    client.force_login(supervisor)
    listing = reverse("admin:django_celery_beat_periodictask_changelist")
    chinese = client.get(listing, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "在 00:10 Asia/Shanghai" in chinese
    assert "12:10 AM" not in chinese
    english = client.get(listing, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "At 00:10 Asia/Shanghai" in english
