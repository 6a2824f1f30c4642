import socket

import pytest

from backoffice.kernel.webhooks.services import webhook_subscription_create
from tests.kernel.receiver import Receiver
from tests.smtp_server import smtp_server  # noqa: F401 - a fixture of these tests


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def subscribe(root, receiver, settings):
    """Subscribe the receiver (plain http on 127.0.0.1, which a test allows explicitly) and hand it the secret."""
    settings.WEBHOOK_HTTPS_ONLY = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    def make(name: str = "core", event_types: list[str] | None = None, url: str | None = None):
        subscription, secret = webhook_subscription_create(
            name=name, url=url or receiver.url, event_types=event_types or [], actor=root
        )
        receiver.secret = secret
        return subscription

    return make


class Resolver:
    """The DNS of the outside world for the names a test gives; any other name is looked up as usual."""

    def __init__(self, system) -> None:
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self._system = system

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        if host not in self.answers:
            return self._system(host, port, family, type, proto, flags)
        self.lookups.append(host)
        if not self.answers[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
            for address in self.answers[host]
        ]


@pytest.fixture
def dns(monkeypatch):
    """Answer a test's names with the addresses it sets in ``dns.answers``, and note each lookup of them."""
    resolver = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    return resolver
