"""One HTTP POST to a subscriber, made safe: http or https only, to vetted addresses only, short timeouts, no
redirects, a bounded answer.

The host is resolved once and every address checked (``destinations``); the connection is then made to
those addresses, never to a second lookup that DNS rebinding could answer otherwise, while the Host
header, the TLS server name and the certificate check stay those of the URL's host.
"""

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from backoffice.kernel.webhooks.destinations import (
    Address,
    DestinationRefused,
    destination_addresses,
    destination_port,
)

SCHEMES = ("http", "https")
# What is kept of a subscriber's answer: enough to see why it refused, not a copy of its page.
EXCERPT_BYTES = 1_000


@dataclass(frozen=True)
class Answer:
    """What came back: the status code and the start of the body."""

    status: int
    excerpt: str


class DeliveryFailed(Exception):
    """The request could not be made or finished (refused, timed out, bad TLS, bad URL)."""


def _open(addresses: list[Address], port: int, timeout: float) -> socket.socket:
    # Each vetted address in turn, as socket.create_connection tries a name's; a literal address is not looked up.
    failure: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout)
        except OSError as exc:
            failure = exc
    raise failure or OSError("no address")


class _VettedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to the addresses vetted for the host, never to a fresh lookup of it."""

    def __init__(self, host: str, port: int, *, addresses: list[Address], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        """Connect to a vetted address."""
        self.sock = _open(self.addresses, self.port, self.timeout)


class _VettedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the addresses vetted for the host; the server name sent and the certificate checked are the host's."""

    def __init__(self, host: str, port: int, *, addresses: list[Address], timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        """Connect to a vetted address and shake hands as the host."""
        self.sock = self.tls.wrap_socket(_open(self.addresses, self.port, self.timeout), server_hostname=self.host)


def _port(parts: SplitResult) -> int:
    try:
        return destination_port(parts)
    except ValueError:
        raise DeliveryFailed(_("%(value)r has no valid port.") % {"value": parts.geturl()}) from None


def _addresses(host: str, port: int) -> list[Address]:
    try:
        return destination_addresses(host, port)
    except DestinationRefused as exc:
        raise DeliveryFailed(str(exc)) from exc
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot write
        error = getattr(exc, "strerror", None) or exc
        raise DeliveryFailed(_("%(host)s could not be resolved: %(error)s") % {"host": host, "error": error}) from exc


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise DeliveryFailed(_("Only http and https URLs are delivered to, not %(value)r.") % {"value": url})
    if parts.scheme == "http" and settings.WEBHOOK_HTTPS_ONLY:
        raise DeliveryFailed(
            _("Only https URLs are delivered to (WEBHOOK_HTTPS_ONLY), not %(value)r.") % {"value": url}
        )
    port = _port(parts)
    addresses = _addresses(parts.hostname, port)
    kind = _VettedHTTPSConnection if parts.scheme == "https" else _VettedHTTPConnection
    connection = kind(parts.hostname, port, addresses=addresses, timeout=settings.WEBHOOK_CONNECT_TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return connection, path


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url``; return the answer, whatever its status. Redirects are answers, never followed."""
    connection, path = _connection(url)
    try:
        connection.connect()
        connection.sock.settimeout(settings.WEBHOOK_READ_TIMEOUT)
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return Answer(status=response.status, excerpt=excerpt)
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
