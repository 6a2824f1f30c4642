"""SMS through Alibaba Cloud SMS (dysmsapi, API version 2017-05-25, the ``SendSms`` action).

Called through its documented RPC-style HTTP API, signed with signature version 1.0 (HMAC-SHA1), on the
standard library. Not the official SDK (``alibabacloud-dysmsapi20170525``): it brings the Tea runtime,
the OpenAPI client core, their credentials chain and an HTTP stack of their own for what is one POST,
while the signature is a few lines that the worked example of Alibaba's documentation pins in a test.

The request, one POST to ``ALIYUN_SMS_ENDPOINT`` (``https://dysmsapi.aliyuncs.com/``), its parameters in
a form body (never the URL: the number and the params stay out of access logs)::

    AccessKeyId, Action=SendSms, Format=JSON, OutId=<our reference, which receipts quote back>,
    PhoneNumbers=<to>, RegionId=cn-hangzhou, SignName=<ALIYUN_SMS_SIGN_NAME>,
    SignatureMethod=HMAC-SHA1, SignatureNonce=<fresh UUID>, SignatureVersion=1.0,
    TemplateCode=<template_code>, TemplateParam=<params as JSON>, Timestamp=<UTC, 2026-03-02T01:00:00Z>,
    Version=2017-05-25, Signature

    Signature = base64(HMAC-SHA1(AccessKeySecret + "&",
                                 "POST&%2F&" + encode("n1=v1&n2=v2…" sorted by name, each encode(n)=encode(v))))

where ``encode`` percent-encodes the UTF-8 bytes of everything but ``A-Z a-z 0-9 - _ . ~`` (a space is
``%20``, never ``+``; ``*`` is ``%2A``).

An SMS says only what an approved template says: Alibaba gets the template code and its params, never
the free ``text`` (which stays with us, for the record of what was sent). A message without a template
code (``no_template``), or whose ``to`` is not one number (``invalid_number``: ``PhoneNumbers`` takes a
list), is refused before anything is sent, permanently.

What an answer means:

- ``Code == "OK"``: ``Accepted(provider="aliyun", provider_message_id=<BizId>)``; receipts quote the BizId
  and our reference (``OutId``).
- a code in ``PERMANENT_CODES`` (a number, template, sign or content Alibaba refuses): ``SendFailed`` with
  that code and ``permanent=True``: sending the same message again cannot succeed.
- any other code (flow control such as ``isv.BUSINESS_LIMIT_CONTROL``, ``Throttling.User``, daily or
  monthly limits, ``isp.SYSTEM_ERROR``, an account out of credit, a wrong key), an HTTP 5xx, a refused
  connection or a timeout: ``SendFailed(permanent=False)``, tried again later. ``code`` says which; it is
  ``"connection"`` when nothing was sent and ``"timeout"`` when the request went out but no answer came
  (Alibaba may have taken it: a retry can send the customer the text twice).
"""

import base64
import hashlib
import hmac
import http.client
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils import timezone

from backoffice.kernel.outbound.message import Accepted, Outgoing, SendFailed

API_VERSION = "2017-05-25"
# SMS has one region for the mainland; the official SDKs send it, and the documented example signs it.
REGION = "cn-hangzhou"
# An answer is a small JSON object; anything longer is not one.
ANSWER_BYTES = 64 * 1024
# One number (mainland 13812345678, or a country code and number): PhoneNumbers takes a comma-separated
# list, and one message must never reach a second handset.
ONE_NUMBER = re.compile(r"\+?[0-9]{5,20}")

# Codes that refuse the message itself: retrying it unchanged would be refused again.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
    }
)


def percent_encode(value: str) -> str:
    """Percent-encode ``value``'s UTF-8 bytes the way the signature wants: all but ``A-Za-z0-9-_.~``."""
    return quote(value, safe="")


def canonical_query(params: Mapping[str, str]) -> str:
    """Return the parameters, ``Signature`` left out, sorted by name and encoded, joined by ``&``."""
    pairs = sorted((name, value) for name, value in params.items() if name != "Signature")
    return "&".join(f"{percent_encode(name)}={percent_encode(value)}" for name, value in pairs)


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """Return ``<method>&%2F&<the canonical query, encoded once more>``."""
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def rpc_signature(*, secret: str, method: str, params: Mapping[str, str]) -> str:
    """Return the base64 HMAC-SHA1 of the string to sign under ``secret + "&"`` (signature version 1.0)."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def send_sms_parameters(outgoing: Outgoing, *, now: datetime, nonce: str) -> dict[str, str]:
    """Return the signed ``SendSms`` parameters for ``outgoing``: the template code and params, never its text."""
    params = {
        "AccessKeyId": settings.ALIYUN_SMS_ACCESS_KEY_ID,
        "Action": "SendSms",
        "Format": "JSON",
        "OutId": outgoing.reference,
        "PhoneNumbers": outgoing.to,
        "RegionId": REGION,
        "SignName": settings.ALIYUN_SMS_SIGN_NAME,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce,
        "SignatureVersion": "1.0",
        "TemplateCode": outgoing.template_code,
        "TemplateParam": json.dumps(dict(outgoing.params), ensure_ascii=False, separators=(",", ":")),
        "Timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": API_VERSION,
    }
    params["Signature"] = rpc_signature(secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET, method="POST", params=params)
    return params


class AliyunSmsProvider:
    """Send SMS through Alibaba Cloud's ``SendSms``, from approved templates only."""

    name = "aliyun"

    def send(self, outgoing: Outgoing) -> Accepted:
        """Send one SMS; return Alibaba's BizId as the provider's id, or raise ``SendFailed``."""
        if not outgoing.template_code:
            raise SendFailed(
                "An SMS is sent only from a template Alibaba Cloud approved, and this one names none.",
                code="no_template",
                permanent=True,
            )
        if not ONE_NUMBER.fullmatch(outgoing.to):
            raise SendFailed("An SMS goes to one phone number, digits only.", code="invalid_number", permanent=True)
        params = send_sms_parameters(outgoing, now=timezone.now(), nonce=str(uuid.uuid4()))
        body = canonical_query(params).encode() + b"&Signature=" + percent_encode(params["Signature"]).encode()
        status, answer = _post(settings.ALIYUN_SMS_ENDPOINT, body)
        return _accepted(status, answer)


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return kind(parts.hostname, parts.port, timeout=settings.ALIYUN_SMS_CONNECT_TIMEOUT), parts.path or "/"


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    # One request, redirects never followed; a failure to connect means nothing left this machine.
    connection, path = _connection(url)
    try:
        try:
            connection.connect()
        except OSError as exc:
            raise SendFailed(f"Alibaba Cloud SMS could not be reached: {exc}", code="connection") from exc
        connection.sock.settimeout(settings.ALIYUN_SMS_READ_TIMEOUT)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"}
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(ANSWER_BYTES)
        except (OSError, http.client.HTTPException) as exc:
            raise SendFailed(f"Alibaba Cloud SMS did not answer: {type(exc).__name__}: {exc}", code="timeout") from exc
    finally:
        connection.close()


def _json_object(raw: bytes) -> dict:
    try:
        answer = json.loads(raw)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _accepted(status: int, raw: bytes) -> Accepted:
    answer = _json_object(raw)
    code = str(answer.get("Code") or "")
    biz_id = str(answer.get("BizId") or "")
    if code == "OK" and biz_id:
        return Accepted(provider=AliyunSmsProvider.name, provider_message_id=biz_id)
    if code and code != "OK":
        message = f"Alibaba Cloud SMS answered {code}: {answer.get('Message', '')}"
        raise SendFailed(message, code=code, permanent=code in PERMANENT_CODES)
    raise SendFailed(f"Alibaba Cloud SMS answered HTTP {status} without a result and a BizId.", code=f"http_{status}")
