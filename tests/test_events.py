"""The outbox: every change the lender hears about is an event written with it, and the feed never skips one."""

import datetime
import threading
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import payment_post
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.events import Event, EventType, event_record, events_publish, events_record
from backoffice.sameday import lines_refresh
from cases.dunning.services import case_apply_dunning
from cases.models import Case, CaseTransition
from tests.factories import overdue_line

DUE = datetime.date(2026, 1, 10)


def events_of(line) -> list[tuple]:
    return list(Event.objects.filter(credit_line_id=line.pk).order_by("id").values_list("type", "data__to_stage"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["batch", "one_case"])
def test_every_opening_stage_change_and_freeze_of_the_night_is_an_event_on_both_paths(run_dunning, path):
    line = overdue_line(due=DUE)
    as_of = DUE + datetime.timedelta(days=70)
    if path == "batch":
        run_dunning(as_of)
    else:
        case_apply_dunning(credit_line=line, as_of=as_of)
    case = Case.objects.get(credit_line=line)
    assert CaseTransition.objects.filter(case=case).count() == 2
    assert sorted(events_of(line), key=str) == sorted(
        [
            (EventType.CASE_OPENED, None),
            (EventType.CASE_STAGE_CHANGED, "collection"),
            (EventType.CASE_STAGE_CHANGED, "legal"),
            (EventType.CREDIT_LINE_FROZEN, None),
        ],
        key=str,
    )
    assert set(Event.objects.values_list("case_id", flat=True)) - {None} == {case.pk}


@pytest.mark.django_db
def test_a_same_day_payment_in_full_reports_the_resolution_and_the_lifted_freeze(run_dunning):
    line = overdue_line(due=DUE)
    run_dunning(DUE + datetime.timedelta(days=40))
    Event.objects.all().delete()
    payment_post(
        credit_line=line, external_reference="F-1", amount="1000.00", channel="alipay", received_at=timezone.now()
    )
    lines_refresh(line_ids=[line.pk])
    assert events_of(line) == [(EventType.CASE_RESOLVED, "resolved"), (EventType.CREDIT_LINE_UNFROZEN, None)]


@pytest.fixture
def reader(db):
    root = User.objects.create_superuser("root-events", password="pw-123456")
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_client_create(name='feed', scopes=[Scope.EVENTS_READ], actor=root)[1]}"
    )
    return api


@pytest.mark.django_db
def test_the_feed_serves_events_in_order_from_the_last_place_read(reader, run_dunning):
    lines = [overdue_line(due=DUE) for _ in range(2)]
    run_dunning(DUE + datetime.timedelta(days=40))
    first = reader.get(reverse("api:events"), {"limit": 3}).json()
    assert [event["place"] for event in first["events"]] == [1, 2, 3]
    rest = reader.get(reverse("api:events"), {"after": first["last"]}).json()
    assert len(first["events"]) + len(rest["events"]) == Event.objects.count() == 6
    opened = [event for event in first["events"] + rest["events"] if event["type"] == "case.opened"]
    assert {event["credit_line"] for event in opened} == {line.number for line in lines}
    assert all(event["case"].startswith("C") for event in opened)
    assert reader.get(reverse("api:events"), {"after": rest["last"]}).json() == {"events": [], "last": rest["last"]}


@pytest.mark.django_db(transaction=True)
def test_an_event_whose_transaction_commits_late_is_placed_after_and_never_skipped(on_postgres):
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                event_record(type=EventType.CASE_OPENED, case_id=1)  # the lower id, committed last
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    holding.wait(10)
    event_record(type=EventType.CASE_OPENED, case_id=2)  # committed first
    assert events_publish() == 1
    assert list(Event.objects.filter(position__isnull=False).values_list("case_id", "position")) == [(2, 1)]
    release.set()
    done.wait(10)
    thread.join(10)
    assert events_publish() == 1
    assert list(Event.objects.order_by("position").values_list("case_id", "position")) == [(2, 1), (1, 2)]


def test_events_written_as_a_set_each_get_an_id_of_their_own(db):
    with transaction.atomic():
        events_record((EventType.CASE_OPENED, None, line_id, {}) for line_id in (1, 2, 3))
    ids = list(Event.objects.values_list("event_id", flat=True))
    assert len(set(ids)) == len(ids) == 3
    assert all(isinstance(event_id, uuid.UUID) and event_id.version == 4 for event_id in ids)


def test_details_that_are_equal_as_keys_keep_their_own_json(db):
    with transaction.atomic():
        events_record((EventType.CASE_OPENED, None, 1, {"x": value}) for value in (1, True, 1.0))
    details = Event.objects.order_by("id").values_list("data", flat=True)
    assert [type(data["x"]) for data in details] == [int, bool, float]
