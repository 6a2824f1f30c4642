"""One HTTP POST to a subscriber, made safe: http or https only, short timeouts, no redirects, a bounded answer."""

import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

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


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise DeliveryFailed(_("Only http and https URLs are delivered to, not %(value)r.") % {"value": url})
    timeout = settings.WEBHOOK_CONNECT_TIMEOUT
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
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
