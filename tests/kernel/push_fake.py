"""A fake of the lender's push service on 127.0.0.1: it checks each push's signature as the service must, keeps
what it accepted, and answers with the status and body a test sets."""

import json
from http.server import BaseHTTPRequestHandler

from tests.kernel.receiver import verify
from tests.local_server import LocalServer


class FakePushService(LocalServer):
    """Accept signed pushes (``status``, ``answer``); refuse a bad signature with 401."""

    def __init__(self, *, secret: str = "push-signing-secret") -> None:  # noqa: S107 - a test key
        self.secret = secret
        self.status = 200
        self.answer = b'{"id": "push-0001"}'
        self.received: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.refused_signatures = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/pushes"

    def handler(self) -> type:
        return _handler(self)


def _handler(service: FakePushService) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not verify(service.secret, self.headers.get("X-Signature", "t=0,v1="), body):
                service.refused_signatures += 1
                self._answer(401, b'{"error": "bad signature"}')
                return
            payload = json.loads(body)
            assert self.headers["X-Message-Id"] == payload["id"]
            service.headers.append(dict(self.headers))
            if 200 <= service.status < 300:
                service.received.append(payload)
            self._answer(service.status, service.answer)

        def _answer(self, status: int, content: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
