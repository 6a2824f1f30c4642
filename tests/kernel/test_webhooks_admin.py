"""Webhooks in the admin: a superuser subscribes and sees the secret once, bad input is refused, dead ones redelivered."""

import pytest
import time_machine
from django.urls import reverse

from backoffice.kernel.events import Event, EventType, event_record
from backoffice.kernel.webhooks.delivery import webhooks_run
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

ADD = "admin:backoffice_webhooksubscription_add"


def test_a_superuser_subscribes_a_url_sees_its_secret_once_and_rotates_it_after_confirming(
    client, root, receiver, settings
):
    settings.WEBHOOK_HTTPS_ONLY = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    client.force_login(root)
    page = client.post(
        reverse(ADD),
        {"name": "核心系统", "url": receiver.url, "event_types": [EventType.CASE_OPENED], "is_active": "on"},
    )
    subscription = WebhookSubscription.objects.get(name="核心系统")
    secret = page.context["issued"][0][1]
    assert subscription.secret == secret
    assert secret in page.content.decode()
    assert subscription.event_types == [EventType.CASE_OPENED]
    change = client.get(reverse("admin:backoffice_webhooksubscription_change", args=[subscription.pk]))
    assert secret not in change.content.decode()
    changelist = reverse("admin:backoffice_webhooksubscription_changelist")
    confirm = client.post(changelist, {"action": "rotate_selected", "_selected_action": [subscription.pk]})
    assert "Issue new secrets?" in confirm.content.decode()
    assert WebhookSubscription.objects.get(pk=subscription.pk).secret == secret
    rotated = client.post(
        changelist, {"action": "rotate_selected", "_selected_action": [subscription.pk], "confirm": "yes"}
    )
    new = rotated.context["issued"][0][1]
    assert WebhookSubscription.objects.get(pk=subscription.pk).secret == new != secret
    receiver.secret = new
    event_record(type=EventType.CASE_OPENED, case_id=1)
    event_record(type=EventType.CASE_CLOSED, case_id=1)
    webhooks_run(runner="test")
    assert [body["type"] for body in receiver.received] == ["case.opened"]


@pytest.mark.parametrize(
    ("url", "https_only", "message"),
    [
        ("ftp://lender.example.com/hooks", False, "give a full URL starting with http:// or https://"),
        ("file:///etc/passwd", False, "give a full URL starting with http:// or https://"),
        ("http://lender.example.com/hooks", True, "give a full URL starting with https://."),
        ("https://user:pw@lender.example.com/hooks", False, "credentials in the URL are refused"),
        ("https://lender.example.com/hooks#x", False, "a fragment"),
        ("not a url", False, "is not a webhook URL: give a full URL"),
        ("https://lender.example.com:99999/hooks", False, "give a port from 1 to 65535"),
        ("https://lender.example.com:0/hooks", False, "give a port from 1 to 65535"),
        (f"https://{'中' * 60}.example.com/hooks", False, "its host name cannot be written for DNS"),
    ],
)
def test_a_url_events_may_not_go_to_is_refused_with_the_reason_and_nothing_is_made(
    client, root, settings, url, https_only, message
):
    settings.WEBHOOK_HTTPS_ONLY = https_only
    client.force_login(root)
    page = client.post(reverse(ADD), {"name": "bad", "url": url, "is_active": "on"})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert url in page.content.decode().replace("&#x27;", "'")
    assert not WebhookSubscription.objects.exists()


def test_an_unknown_event_type_is_refused_by_the_form(client, root, settings):
    settings.WEBHOOK_HTTPS_ONLY = False
    client.force_login(root)
    page = client.post(
        reverse(ADD), {"name": "x", "url": "https://lender.example.com/h", "event_types": ["case.exploded"]}
    )
    assert "case.exploded is not one of the available choices" in page.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_dead_delivery_is_redelivered_from_the_admin_after_a_confirmation_and_arrives_once(
    client, root, subscribe, receiver
):
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=5)
    receiver.status = 503
    webhooks_run(runner="test")
    delivery = WebhookDelivery.objects.get()
    while delivery.status == DeliveryStatus.PENDING:
        with time_machine.travel(delivery.next_attempt_at, tick=False):
            webhooks_run(runner="test")
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    receiver.status = 200
    client.force_login(root)
    changelist = reverse("admin:backoffice_webhookdelivery_changelist")
    assert "HTTP 503" in client.get(changelist).content.decode()
    confirm = client.post(changelist, {"action": "redeliver_selected", "_selected_action": [delivery.pk]})
    assert "Redeliver these events?" in confirm.content.decode()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DEAD
    done = client.post(
        changelist, {"action": "redeliver_selected", "_selected_action": [delivery.pk], "confirm": "yes"}, follow=True
    )
    assert "1 deliveries will be sent again" in done.content.decode()
    assert webhooks_run(runner="test").delivered == 1
    assert webhooks_run(runner="test").delivered == 0
    assert receiver.ids() == [str(Event.objects.get().event_id)]
    page = client.get(reverse("admin:backoffice_webhookdelivery_change", args=[delivery.pk]))
    assert page.content.decode().count("HTTP 503") >= 1


def test_a_delivered_event_can_be_sent_again_but_a_pending_one_is_left_alone(root, subscribe, receiver, client):
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=5)
    event_record(type=EventType.CASE_OPENED, case_id=6)
    receiver.failing = {str(Event.objects.order_by("id").last().event_id)}
    webhooks_run(runner="test")
    client.force_login(root)
    changelist = reverse("admin:backoffice_webhookdelivery_changelist")
    ids = list(WebhookDelivery.objects.values_list("pk", flat=True))
    client.post(changelist, {"action": "redeliver_selected", "_selected_action": ids, "confirm": "yes"})
    assert webhooks_run(runner="test").delivered == 1
    assert len(receiver.received) == 2


def test_a_supervisor_cannot_reach_the_webhook_screens(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("admin:backoffice_webhooksubscription_changelist")).status_code == 403
    assert client.get(reverse("admin:backoffice_webhookdelivery_changelist")).status_code == 403
