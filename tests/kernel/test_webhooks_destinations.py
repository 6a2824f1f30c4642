"""Webhook destinations: public addresses only, unless a network is allowed; checked at save and again at each
delivery, which connects to the very addresses it checked and keeps the URL's host for Host, SNI and the certificate.

The receiver is a real server on 127.0.0.1; names are answered by a stand-in for the outside world's DNS."""

import re
from html import unescape
from ipaddress import ip_address, ip_network

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from backoffice.kernel.events import EventType, event_record
from backoffice.kernel.webhooks.delivery import webhooks_run
from backoffice.kernel.webhooks.destinations import address_refusal
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from backoffice.kernel.webhooks.services import webhook_subscription_create
from tests.kernel.certificates import certificates_for
from tests.kernel.receiver import Receiver

pytestmark = pytest.mark.django_db

ADD = "admin:backoffice_webhooksubscription_add"
LENDER = "hooks.lender.example"
LOOPBACK, PRIVATE, LINK_LOCAL = "a loopback address", "a private address", "a link-local address"


def run() -> object:
    return webhooks_run(runner="test")


def create(url: str, root, name: str = "lender") -> WebhookSubscription:
    return webhook_subscription_create(name=name, url=url, event_types=[], actor=root)[0]


def refusal(address: str, allowed: list[str] | None = None) -> str | None:
    kind = address_refusal(ip_address(address), allowed=[ip_network(net) for net in allowed or []])
    return None if kind is None else str(kind)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", LOOPBACK),
        ("127.8.9.10", LOOPBACK),
        ("10.0.0.5", PRIVATE),
        ("172.16.0.1", PRIVATE),
        ("172.31.255.254", PRIVATE),
        ("192.168.1.1", PRIVATE),
        ("169.254.169.254", LINK_LOCAL),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104 - an address judged, nothing bound
        ("224.0.0.251", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "a non-public address"),
        ("::1", LOOPBACK),
        ("::", "an unspecified address"),
        ("fd12:3456::1", PRIVATE),
        ("fec0::1", PRIVATE),
        ("fe80::1", LINK_LOCAL),
        ("ff02::1", "a multicast address"),
        ("::ffff:10.0.0.5", PRIVATE),
        ("::ffff:169.254.169.254", LINK_LOCAL),
        ("2002:a00:5::1", PRIVATE),  # 10.0.0.5's 6to4 address
        ("64:ff9b::a00:5", "a reserved address"),
        ("8.8.8.8", None),
        ("::ffff:8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_every_address_that_is_not_public_is_refused_with_its_kind(address, kind):
    assert refusal(address) == kind


def test_an_allowed_network_is_delivered_to_though_private_and_nothing_beside_it():
    allowed = ["10.20.0.0/16", "127.0.0.1/32"]
    assert refusal("10.20.3.4", allowed) is None
    assert refusal("::ffff:10.20.3.4", allowed) is None
    assert refusal("127.0.0.1", allowed) is None
    assert refusal("10.21.0.1", allowed) == PRIVATE
    assert refusal("127.0.0.2", allowed) == LOOPBACK
    assert refusal("::1", allowed) == LOOPBACK


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.5/hooks", "destination 10.0.0.5 is a private address"),
        ("https://172.16.0.1/hooks", "destination 172.16.0.1 is a private address"),
        ("https://192.168.1.1:8443/hooks", "destination 192.168.1.1 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "destination 169.254.169.254 is a link-local address"),
        ("https://127.0.0.1/hooks", "destination 127.0.0.1 is a loopback address"),
        ("https://0.0.0.0/hooks", "destination 0.0.0.0 is an unspecified address"),
        ("https://[::1]:8443/hooks", "destination ::1 is a loopback address"),
        ("https://[fd00::5]/hooks", "destination fd00::5 is a private address"),
        ("https://[fe80::1]/hooks", "destination fe80::1 is a link-local address"),
        ("https://[::ffff:127.0.0.1]/hooks", "destination ::ffff:7f00:1 (127.0.0.1) is a loopback address"),
    ],
)
def test_a_url_at_a_forbidden_address_is_refused_at_save_naming_the_url_and_why(client, root, settings, url, reason):
    settings.WEBHOOK_HTTPS_ONLY, settings.WEBHOOK_ALLOWED_NETWORKS = True, []
    client.force_login(root)
    page = client.post(reverse(ADD), {"name": "inside", "url": url, "is_active": "on"})
    assert page.status_code == 200
    expected = f"{url!r} is not a webhook URL: {reason}; events go only to public addresses, or to a network in"
    assert expected in unescape(page.content.decode())
    assert not WebhookSubscription.objects.exists()


def test_the_refusal_speaks_chinese_to_a_chinese_browser(client, root, settings):
    settings.WEBHOOK_HTTPS_ONLY, settings.WEBHOOK_ALLOWED_NETWORKS = True, []
    client.force_login(root)
    with translation.override("en"):  # the request switches this thread to Chinese; the next test speaks English
        page = client.post(
            reverse(ADD), {"name": "内网", "url": "https://10.0.0.5/hooks"}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
        )
    assert "目标地址 10.0.0.5 是私有地址" in unescape(page.content.decode())


def test_a_public_address_is_accepted(root, settings):
    settings.WEBHOOK_HTTPS_ONLY, settings.WEBHOOK_ALLOWED_NETWORKS = True, []
    assert create("https://8.8.8.8/hooks", root).url == "https://8.8.8.8/hooks"


def test_without_its_allowance_the_local_receiver_is_refused_at_save_and_at_delivery(
    root, subscribe, receiver, settings
):
    subscribe()  # while 127.0.0.1/32 is allowed
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError, match=re.escape("destination 127.0.0.1 is a loopback address")):
        create(receiver.url, root, name="again")
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().retried == 1
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "destination 127.0.0.1 is a loopback address")
    assert receiver.hosts == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.PENDING, 1, attempt.error)
    assert delivery.next_attempt_at > timezone.now()
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with time_machine.travel(delivery.next_attempt_at, tick=False):
        assert run().delivered == 1
    assert len(receiver.received) == 1


def test_a_destination_refused_at_every_attempt_is_dead_after_a_day_like_any_failure(subscribe, receiver, settings):
    subscribe()
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    event_record(type=EventType.CASE_OPENED, case_id=1)
    run()
    delivery = WebhookDelivery.objects.get()
    while delivery.status == DeliveryStatus.PENDING:
        with time_machine.travel(delivery.next_attempt_at, tick=False):
            run()
        delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (
        DeliveryStatus.DEAD,
        "destination 127.0.0.1 is a loopback address",
    )
    assert WebhookAttempt.objects.filter(error=delivery.last_error).count() == delivery.attempts > 10
    assert receiver.hosts == []


def test_localhost_is_judged_by_what_it_resolves_to_at_save_and_at_delivery(root, subscribe, receiver, settings):
    url = receiver.url.replace("127.0.0.1", "localhost")
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError, match=r"destination localhost resolves to (127\.0\.0\.1|::1), a loopback"):
        create(url, root)
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32", "::1/128"]  # some systems also give ::1 for localhost
    subscribe(url=url)
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().delivered == 1
    assert receiver.hosts == [f"localhost:{receiver.port}"]
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    event_record(type=EventType.CASE_OPENED, case_id=2)
    assert run().retried == 1
    error = WebhookAttempt.objects.latest("pk").error
    assert error.startswith("destination localhost resolves to ")
    assert error.endswith(", a loopback address")
    assert len(receiver.hosts) == 1


def test_a_name_is_refused_at_save_if_any_address_it_resolves_to_is_forbidden(root, settings, dns):
    settings.WEBHOOK_HTTPS_ONLY, settings.WEBHOOK_ALLOWED_NETWORKS = True, []
    dns.answers[LENDER] = ["8.8.8.8", "169.254.169.254"]
    with pytest.raises(
        ValidationError, match=re.escape(f"destination {LENDER} resolves to 169.254.169.254, a link-local")
    ):
        create(f"https://{LENDER}/hooks", root)
    dns.answers[LENDER] = ["8.8.8.8"]
    assert create(f"https://{LENDER}/hooks", root).pk


def test_a_name_rebound_to_a_forbidden_address_after_save_is_refused_at_delivery(subscribe, receiver, dns):
    receiver.name, dns.answers[LENDER] = LENDER, ["127.0.0.1"]
    subscribe()
    dns.answers[LENDER] = ["127.0.0.1", "10.0.0.5"]
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().retried == 1
    assert WebhookAttempt.objects.get().error == f"destination {LENDER} resolves to 10.0.0.5, a private address"
    assert receiver.hosts == []


def test_the_delivery_connects_to_the_address_it_checked_without_a_second_lookup(subscribe, receiver, dns):
    receiver.name, dns.answers[LENDER] = LENDER, ["127.0.0.1"]
    subscribe()
    event_record(type=EventType.CASE_OPENED, case_id=1)
    dns.lookups.clear()
    assert run().delivered == 1
    assert dns.lookups == [LENDER]  # a second one is where rebinding would answer otherwise
    assert receiver.hosts == [f"{LENDER}:{receiver.port}"]


def test_a_name_that_does_not_resolve_is_accepted_and_its_delivery_says_so(subscribe, receiver, dns):
    dns.answers[LENDER] = []
    subscribe(url=f"http://{LENDER}/hooks")
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().retried == 1
    assert WebhookAttempt.objects.get().error == f"{LENDER} could not be resolved: Name or service not known"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:99999/hooks", "'http://127.0.0.1:99999/hooks' has no valid port."),
        (f"http://{'中' * 60}.example.com/hooks", "could not be resolved: encoding with 'idna' codec failed"),
    ],
)
def test_a_url_that_got_into_the_table_unchecked_is_a_failed_attempt_not_a_crash(subscribe, receiver, url, error):
    subscription = subscribe()
    type(subscription).objects.filter(pk=subscription.pk).update(url=url)
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().retried == 1
    assert error in WebhookAttempt.objects.get().error


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch, dns, settings):
    """The receiver over https as hooks.lender.example, its certificate issued by an authority the system trusts."""
    certificates = certificates_for(LENDER, tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.authority))  # the system's trust store
    settings.WEBHOOK_HTTPS_ONLY, settings.WEBHOOK_ALLOWED_NETWORKS = True, ["127.0.0.1/32"]
    dns.answers[LENDER] = ["127.0.0.1"]
    running = Receiver(name=LENDER, tls=certificates.server_context()).start()
    yield running
    running.stop()


def test_over_https_the_host_name_is_the_server_name_and_the_certificate_checked(root, tls_receiver, dns):
    _subscription, tls_receiver.secret = webhook_subscription_create(
        name="tls", url=tls_receiver.url, event_types=[], actor=root
    )
    event_record(type=EventType.CASE_OPENED, case_id=1)
    dns.lookups.clear()
    assert run().delivered == 1
    assert dns.lookups == [LENDER]
    assert tls_receiver.server_names == [LENDER]
    assert tls_receiver.hosts == [f"{LENDER}:{tls_receiver.port}"]


def test_over_https_a_certificate_for_another_name_is_refused_though_the_address_is_the_same(root, tls_receiver, dns):
    dns.answers["other.lender.example"] = ["127.0.0.1"]
    create(tls_receiver.url.replace(LENDER, "other.lender.example"), root)
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().retried == 1
    error = WebhookAttempt.objects.get().error
    assert "CERTIFICATE_VERIFY_FAILED" in error
    assert "other.lender.example" in error
    assert tls_receiver.server_names == ["other.lender.example"]
    assert tls_receiver.hosts == []


def test_https_is_required_at_save_and_at_delivery_unless_plain_http_is_allowed(root, subscribe, receiver, settings):
    settings.WEBHOOK_HTTPS_ONLY = True
    with pytest.raises(ValidationError, match="give a full URL starting with https://"):
        create(receiver.url, root)
    settings.WEBHOOK_HTTPS_ONLY = False
    subscribe()
    settings.WEBHOOK_HTTPS_ONLY = True
    event_record(type=EventType.CASE_OPENED, case_id=1)
    assert run().retried == 1
    error = WebhookAttempt.objects.get().error
    assert error == f"Only https URLs are delivered to (WEBHOOK_HTTPS_ONLY), not {receiver.url!r}."
    assert receiver.hosts == []
