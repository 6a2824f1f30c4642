"""What a supervisor sees of the night: its progress in the runs' admin, and an alert when it is late or stopped."""

import datetime
import logging
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from backoffice.night import dunning_run, night_open
from backoffice.night.steps import worker_name
from backoffice.reports.dashboard import dunning_run_card
from cases.dunning.lease import lease_renew
from cases.models import DunningLease
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
DAY = DUE + datetime.timedelta(days=40)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


def test_the_runs_admin_shows_the_batches_done_by_worker_the_step_and_the_duration(client, supervisor):
    for _line in range(5):
        overdue_line(due=DUE)
    finished = dunning_run(as_of=DAY, batch_size=2)
    running = night_open(as_of=DAY + datetime.timedelta(days=1), batch_size=2)
    client.force_login(supervisor)
    listing = client.get(reverse("admin:cases_dunningrun_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 of 3" in listing
    assert "0 of 3" in listing
    assert "Judging promises" in listing  # the step the running run is at
    page = client.get(reverse("admin:cases_dunningrun_change", args=[finished.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert f"{worker_name()}: 3" in page.content.decode()
    with translation.override("en"):  # the request switches this thread to Chinese; later tests read English
        chinese = client.get(reverse("admin:cases_dunningrun_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese = chinese.content.decode()
    assert "3 / 3" in chinese
    assert "判定还款承诺" in chinese
    assert "已完成批次" in chinese
    assert running.step == "promises"


def test_a_night_not_finished_by_the_deadline_is_marked_on_the_dashboard_and_logged(settings, caplog):
    settings.NIGHT_DEADLINE = datetime.time(6, 0)
    overdue_line(due=DUE)
    with caplog.at_level(logging.ERROR), translation.override("en"):
        assert dunning_run_card(at(DAY, 5, 59)).mark is None
        late = dunning_run_card(at(DAY, 6, 0))
    assert late.mark.past
    assert f"The night of {DAY.isoformat()} had not finished by 06:00." in late.mark.text
    assert [record.levelname for record in caplog.records] == ["ERROR"]
    with time_machine.travel(at(DAY, 0, 10), tick=False):
        dunning_run(as_of=DAY, batch_size=2)
    assert dunning_run_card(at(DAY, 7, 0)).mark is None


def test_a_lease_that_expired_is_marked_on_the_dashboard_page(client, supervisor, settings):
    overdue_line(due=DUE)
    with time_machine.travel(at(DAY, 0, 10), tick=False):
        run = night_open(as_of=DAY, batch_size=2)
        lease_renew(run_id=run.pk)
    expired = timezone.localtime(DunningLease.objects.get().expires_at).strftime("%Y-%m-%d %H:%M")
    client.force_login(supervisor)
    with time_machine.travel(at(DAY, 2, 0), tick=False), translation.override("en"):
        page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"催收批处理 {run.pk} 的租约已于 {expired} 到期" in page
