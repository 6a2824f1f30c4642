"""A fake of Alibaba Cloud SMS on 127.0.0.1: SendSms as its documentation describes it, and its HTTP pushes back.

An http.server thread that takes the form-encoded POST, recomputes the signature with the test's secret
(its own code, written from the documented algorithm, so a broken signer in the product is caught here)
and refuses a bad one as Alibaba does (HTTP 400, ``SignatureDoesNotMatch``), refuses a nonce used twice
(``SignatureNonceUsed``), and otherwise answers OK with a BizId, or the code a test sets. It keeps every
request it took. ``push_receipts`` and ``push_uplink`` POST Alibaba's receipt and reply JSON to a URL.
"""

import base64
import hashlib
import hmac
import itertools
import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote

from tests.local_server import LocalServer

REQUIRED = (
    "AccessKeyId",
    "Action",
    "Format",
    "PhoneNumbers",
    "SignName",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "TemplateCode",
    "Timestamp",
    "Version",
    "Signature",
)
BEIJING = timedelta(hours=8)


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters only, as the documentation spells it out, then its three replacements.
    return quote(text.encode(), safe="-_.~").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def expected_signature(secret: str, method: str, params: dict[str, str]) -> str:
    """The documented signature version 1.0, recomputed on the fake's side."""
    query = "&".join(f"{_encode(k)}={_encode(params[k])}" for k in sorted(params) if k != "Signature")
    to_sign = method + "&" + _encode("/") + "&" + _encode(query)
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def _beijing(moment: datetime) -> str:
    return (moment.astimezone(UTC) + BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class FakeAliyunSms(LocalServer):
    """SendSms on 127.0.0.1; ``code`` (and ``status``) set what the next requests are answered."""

    def __init__(self, *, access_key_id: str = "LTAI-test-key", secret: str = "test-secret") -> None:  # noqa: S107 - a test key
        self.access_key_id = access_key_id
        self.secret = secret
        self.code = "OK"
        self.status = 200
        self.raw_answer: bytes | None = None  # answered as is instead of JSON (a gateway's error page)
        self.received: list[dict[str, str]] = []  # accepted requests' parameters
        self.refused: list[dict[str, str]] = []  # requests refused for their signature or nonce
        self.paths: list[str] = []
        self._nonces: set[str] = set()
        self._ids = itertools.count(900_619_746_936_498)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def handler(self) -> type:
        return _handler(self)

    def answer(self, params: dict[str, str]) -> tuple[int, dict]:
        """Judge one request as Alibaba would; return the status and the JSON answer."""
        request_id = str(uuid.uuid4()).upper()
        missing = [name for name in REQUIRED if name not in params]
        if missing:
            return 400, {"Code": "MissingParameter", "Message": f"{missing[0]} is mandatory", "RequestId": request_id}
        if params["AccessKeyId"] != self.access_key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        if not hmac.compare_digest(params["Signature"], expected_signature(self.secret, "POST", params)):
            self.refused.append(params)
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
                "RequestId": request_id,
            }
        if params["SignatureNonce"] in self._nonces:
            self.refused.append(params)
            return 400, {"Code": "SignatureNonceUsed", "Message": "Specified signature nonce was used already."}
        self._nonces.add(params["SignatureNonce"])
        self.received.append(params)
        if self.code != "OK":
            return self.status, {"Code": self.code, "Message": "fake refusal", "RequestId": request_id}
        biz_id = f"{next(self._ids)}^0"
        params["_BizId"] = biz_id
        return self.status, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    def receipts_for_received(self, *, success: bool = True, err_code: str = "DELIVERED") -> list[dict]:
        """Alibaba's receipt items for every SMS this fake accepted, in its push format."""
        now = datetime.now(UTC)
        return [
            {
                "phone_number": params["PhoneNumbers"],
                "send_time": _beijing(now - timedelta(seconds=5)),
                "report_time": _beijing(now),
                "success": success,
                "err_code": err_code,
                "err_msg": "用户接收成功" if success else "用户停机",
                "sms_size": "1",
                "biz_id": params["_BizId"],
                "out_id": params.get("OutId", ""),
            }
            for params in self.received
        ]

    def push_receipts(self, url: str, items: list[dict]) -> tuple[int, bytes]:
        """POST receipt items to ``url`` as Alibaba's SmsReport push does; return the status and the answer."""
        return _push(url, items)

    def push_uplink(
        self, url: str, *, phone_number: str, content: str, sequence_id: int = 1234567890
    ) -> tuple[int, bytes]:
        """POST one customer reply to ``url`` as Alibaba's SmsUp push does."""
        item = {
            "phone_number": phone_number,
            "send_time": _beijing(datetime.now(UTC)),
            "content": content,
            "sign_name": "示例消费金融",
            "dest_code": "1234",
            "sequence_id": sequence_id,
        }
        return _push(url, [item])


def _push(url: str, items: list[dict]) -> tuple[int, bytes]:
    body = json.dumps(items, ensure_ascii=False).encode()
    # Alibaba pushes over HTTPS; the test's live server is reached as the TLS proxy in front passes it on.
    headers = {"Content-Type": "application/json", "X-Forwarded-Proto": "https"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - a test's URL
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a test URL on 127.0.0.1
        return response.status, response.read()


def _handler(fake: FakeAliyunSms) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake.paths.append(self.path)
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            status, answer = fake.answer(dict(parse_qsl(body, keep_blank_values=True)))
            content = fake.raw_answer if fake.raw_answer is not None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class PushCatcher(LocalServer):
    """The far end of Alibaba's pushes in a test: keeps each body and answers 200 with ``answer``."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def handler(self) -> type:
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                catcher.content_types.append(self.headers["Content-Type"])
                catcher.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(catcher.answer)))
                self.end_headers()
                self.wfile.write(catcher.answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
