"""A real webhook subscriber on 127.0.0.1: an http.server thread that checks each delivery's signature as the
README tells subscribers to, keeps what it accepted, and can be down, failing, slow or redirecting; it can
also answer by a host name and over TLS, and notes the Host header and TLS server name each request gave."""

import hashlib
import hmac
import json
import ssl
import time
from http.server import BaseHTTPRequestHandler

from tests.local_server import LocalServer


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """The subscriber's check: recompute the HMAC over "<t>.<raw body>", compare in constant time, refuse an old t."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - timestamp) <= tolerance


class Receiver(LocalServer):
    """Answer ``status`` (or fail the event ids in ``failing``); keep accepted bodies in ``received``."""

    def __init__(self, *, name: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.name = name  # the host the URL names; a test's resolver maps a name to 127.0.0.1
        self.tls = tls
        self.secret = ""
        self.status = 200
        self.failing: set[str] = set()
        self.delay = 0.0
        self.answer = b"ok"
        self.headers: dict[str, str] = {}
        self.received: list[dict] = []
        self.refused_signatures = 0
        self.hosts: list[str] = []  # the Host header of each request
        self.server_names: list[str | None] = []  # the TLS server name (SNI) of each handshake

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.name}:{self.port}/hooks/collections?source=backoffice"

    def handler(self) -> type:
        if self.tls:
            self.tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
        return _handler(self)

    def ids(self) -> list[str]:
        return [body["event_id"] for body in self.received]


def _handler(receiver: Receiver) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver.hosts.append(self.headers["Host"])
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(receiver.delay)
            if not verify(receiver.secret, self.headers["X-Signature"], body):
                receiver.refused_signatures += 1
                self._answer(401, b"bad signature")
                return
            payload = json.loads(body)
            assert self.headers["X-Event-Id"] == payload["event_id"]
            assert self.headers["X-Event-Type"] == payload["type"]
            if receiver.status >= 300 or payload["event_id"] in receiver.failing:
                self._answer(receiver.status if receiver.status >= 300 else 500, receiver.answer)
                return
            receiver.received.append(payload)
            self._answer(200, receiver.answer)

        def _answer(self, status: int, content: bytes) -> None:
            self.send_response(status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
