"""Webhooks against a real subscriber on 127.0.0.1: signed, retried until it is back, once, in order per case, dead."""

import datetime
import json
import logging

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from backoffice.kernel.events import Event, EventType, event_record, events_record
from backoffice.kernel.webhooks.delivery import (
    RETRY_CAP,
    deliveries_create,
    retry_delay,
    webhooks_run,
)
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from backoffice.kernel.webhooks.services import webhook_subscription_update
from backoffice.kernel.webhooks.signing import signature_header, signature_valid
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db


def run() -> object:
    return webhooks_run(runner="test")


def delivery_of(event_id) -> WebhookDelivery:
    return WebhookDelivery.objects.get(event__event_id=event_id)


def test_an_event_reaches_the_subscriber_signed_with_the_headers_and_body_agreed(subscribe, receiver):
    subscribe()
    line = overdue_line(due=datetime.date(2026, 1, 10))
    event_record(type=EventType.CREDIT_LINE_FROZEN, credit_line_id=line.pk, reason="collection")
    summary = run()
    assert (summary.published, summary.created, summary.delivered) == (1, 1, 1)
    event = Event.objects.get()
    [body] = receiver.received
    assert body == {
        "event_id": str(event.event_id),
        "place": 1,
        "type": "credit_line.frozen",
        "occurred_at": event.occurred_at.isoformat(),
        "case": None,
        "credit_line": line.number,
        "data": {"reason": "collection"},
    }
    assert receiver.refused_signatures == 0
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error, attempt.response_excerpt, attempt.runner) == (200, "", "ok", "test")
    assert attempt.duration_ms >= 0
    assert delivery_of(event.event_id).status == DeliveryStatus.DELIVERED


def test_a_subscriber_that_is_down_gets_the_event_once_when_it_is_back(subscribe, receiver):
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=7)
    port = receiver.port
    receiver.stop()
    assert run().retried == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "ConnectionRefusedError" in delivery.last_error
    assert run().retried == 0  # not due yet: nothing sent before its time
    receiver.port = port
    receiver.start()
    receiver.status = 500
    with time_machine.travel(delivery.next_attempt_at, tick=False):
        assert run().retried == 1
    delivery.refresh_from_db()
    assert (delivery.last_status_code, delivery.last_error, delivery.attempts) == (500, "HTTP 500", 2)
    receiver.status = 200
    with time_machine.travel(delivery.next_attempt_at, tick=False):
        assert run().delivered == 1
        assert run().delivered == 0
    assert receiver.ids() == [str(delivery.event.event_id)]
    assert list(WebhookAttempt.objects.values_list("status_code", flat=True)) == [None, 500, 200]


def test_a_later_event_of_a_case_waits_behind_an_undelivered_earlier_one_and_other_cases_go_on(subscribe, receiver):
    subscribe()
    events_record(
        [
            (EventType.CASE_OPENED, 1, None, {}),
            (EventType.CASE_OPENED, 2, None, {}),
            (EventType.CASE_STAGE_CHANGED, 1, None, {"to_stage": "collection"}),
            (EventType.CASE_STAGE_CHANGED, 2, None, {"to_stage": "collection"}),
        ]
    )
    first, other, later, other_later = (str(e) for e in Event.objects.order_by("id").values_list("event_id", flat=True))
    receiver.failing = {first}
    run()
    assert receiver.ids() == [other, other_later]
    assert delivery_of(later).attempts == 0
    receiver.failing = set()
    with time_machine.travel(delivery_of(first).next_attempt_at, tick=False):
        run()
    assert receiver.ids() == [other, other_later, first, later]


def test_a_delivery_failing_for_a_day_is_dead_with_its_last_error_and_holds_back_its_case(subscribe, receiver):
    subscribe()
    events_record([(EventType.CASE_OPENED, 3, None, {}), (EventType.CASE_RESOLVED, 3, None, {})])
    opened, resolved = (str(e) for e in Event.objects.order_by("id").values_list("event_id", flat=True))
    receiver.failing = {opened}
    started = now = timezone.now()
    run()
    waits = []
    delivery = delivery_of(opened)
    while delivery.status == DeliveryStatus.PENDING:
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
        with time_machine.travel(now, tick=False):
            run()
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert (delivery.last_status_code, delivery.last_error) == (500, "HTTP 500")
    assert delivery.next_attempt_at - started >= datetime.timedelta(hours=24)
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == delivery.attempts == len(waits) + 1
    assert waits[0] < datetime.timedelta(seconds=31)
    assert max(waits) <= RETRY_CAP
    assert delivery_of(resolved).status == DeliveryStatus.PENDING
    assert delivery_of(resolved).attempts == 0
    assert receiver.ids() == []


def test_the_wait_doubles_from_half_a_minute_to_an_hour_with_half_of_it_random():
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (8, 3600), (40, 3600)]:
        waits = {retry_delay(attempts).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(waits) > 1


def test_with_no_subscription_a_run_costs_one_query_and_publishes_nothing(django_assert_num_queries):
    events_record((EventType.CASE_OPENED, case, None, {}) for case in range(1, 1001))
    with django_assert_num_queries(1):
        summary = run()
    assert (summary.published, summary.created) == (0, 0)
    assert not Event.objects.filter(position__isnull=False).exists()


def test_deliveries_are_made_set_wise_once_each_for_the_types_subscribed(
    subscribe, receiver, django_assert_max_num_queries
):
    subscribe("stages", event_types=[EventType.CASE_STAGE_CHANGED])
    subscribe("everything")
    events_record(
        (EventType.CASE_STAGE_CHANGED if case % 2 else EventType.CASE_OPENED, case, None, {}) for case in range(1, 2001)
    )
    call_command("deliver_events", "--limit", "0", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert WebhookDelivery.objects.count() == 3000
    events_record((EventType.CASE_STAGE_CHANGED, case, None, {}) for case in range(1, 4001))
    webhooks_run(runner="test", limit=0)
    with django_assert_max_num_queries(8):
        assert deliveries_create() == 0
    assert WebhookDelivery.objects.filter(subscription__name="stages").count() == 1000 + 4000


def test_a_subscription_hears_only_what_happens_after_it_is_made(subscribe, receiver):
    event_record(type=EventType.CASE_OPENED, case_id=1)
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=2)
    run()
    assert [body["case"] for body in receiver.received] == ["C00000002"]


def test_a_redirect_is_an_answer_never_followed_and_a_long_answer_is_cut(subscribe, receiver):
    subscribe()
    receiver.status, receiver.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data/"}
    receiver.answer = b"x" * 50_000
    event_record(type=EventType.CASE_OPENED, case_id=1)
    run()
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error, len(attempt.response_excerpt)) == (302, "HTTP 302", 1000)


def test_a_slow_subscriber_is_given_up_on_after_the_read_timeout(subscribe, receiver, settings):
    settings.WEBHOOK_READ_TIMEOUT = 1
    subscribe()
    receiver.delay = 2
    event_record(type=EventType.CASE_OPENED, case_id=1)
    run()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert "timed out" in attempt.error
    assert 900 <= attempt.duration_ms < 1900


def test_an_inactive_subscription_hears_nothing(subscribe, receiver):
    sleeping = subscribe("sleeping")
    sleeping.is_active = False
    sleeping.save()
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().created == 0
    assert receiver.received == []


def test_a_url_of_another_scheme_is_never_fetched_even_if_it_got_into_the_table(subscribe, receiver):
    subscription = subscribe()
    type(subscription).objects.filter(pk=subscription.pk).update(url="file:///etc/passwd")
    event_record(type=EventType.CASE_OPENED, case_id=1)
    run()
    assert "Only http and https" in WebhookAttempt.objects.get().error


def test_the_logs_name_ids_and_outcomes_never_the_body(subscribe, receiver, caplog):
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=1, customer="张三", mobile="13800138000")
    with caplog.at_level(logging.INFO, logger="backoffice.webhooks"):
        run()
    assert "delivered" in caplog.text
    assert "张三" not in caplog.text
    assert "13800138000" not in caplog.text


def test_deliver_events_publishes_delivers_and_says_what_it_did(subscribe, receiver, capsys):
    subscribe()
    events_record([(EventType.CASE_OPENED, 1, None, {}), (EventType.CASE_OPENED, 2, None, {})])
    receiver.failing = {str(Event.objects.order_by("id").values_list("event_id", flat=True).first())}
    call_command("deliver_events")
    out = capsys.readouterr().out
    assert out.strip() == (
        "Published 2 events, made 2 deliveries; delivered 1, failed 1 (to retry), dead 0; "
        "1 pending (due later or behind an earlier event of their case)."
    )


def test_the_signature_is_refused_when_old_or_over_another_body():
    body = json.dumps({"event_id": "x"}).encode()
    header = signature_header(secret="s3cret", timestamp=1_800_000_000, body=body)
    assert signature_valid(secret="s3cret", header=header, body=body, now=1_800_000_100)
    assert not signature_valid(secret="s3cret", header=header, body=body, now=1_800_000_301)
    assert not signature_valid(secret="s3cret", header=header, body=body + b" ", now=1_800_000_000)
    assert not signature_valid(secret="other", header=header, body=body, now=1_800_000_000)
    assert not signature_valid(secret="s3cret", header="v1=abc", body=body, now=1_800_000_000)


def test_a_batch_of_a_thousand_events_wakes_the_delivery_once_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        events_record((EventType.CASE_OPENED, case, None, {}) for case in range(1, 1001))
        events_record([])
    assert len(callbacks) == 1


def test_a_subscription_made_active_again_hears_what_happens_from_then_on(subscribe, receiver, root):
    subscription = subscribe()
    options = {"name": subscription.name, "url": subscription.url, "event_types": [], "actor": root}
    webhook_subscription_update(subscription=subscription, is_active=False, **options)
    event_record(type=EventType.CASE_OPENED, case_id=1)
    run()
    webhook_subscription_update(subscription=subscription, is_active=True, **options)
    event_record(type=EventType.CASE_OPENED, case_id=2)
    run()
    assert [body["case"] for body in receiver.received] == ["C00000002"]
