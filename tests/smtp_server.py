"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd in a thread), which accepts or refuses as told.

``answers`` is a queue of replies to the next messages' DATA ("550 ...", "451 ..."); once it is
empty every message is accepted and kept, parsed, in ``received``. ``delay`` slows every message.
"""

import asyncio
import email
import email.policy
import socket
import threading
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """The handler aiosmtpd calls, and what it received."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.delay = 0.0  # seconds each message takes, so that two senders overlap
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = free_port()
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's hook name
        """Answer the queued reply, or accept and keep the message."""
        await asyncio.sleep(self.delay)
        with self._lock:
            if self.answers:
                return self.answers.pop(0)
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        """Listen."""
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()


@pytest.fixture
def smtp_server(settings):
    """A real mail server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    server = MailServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()
