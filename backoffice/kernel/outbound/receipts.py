"""What Alibaba Cloud SMS pushes back to us: delivery receipts (``SmsReport``) and customers' replies (``SmsUp``).

Both come by Alibaba's "HTTP batch push": a POST of ``application/json``, UTF-8, whose body is a JSON
array (one push may carry many items), to the URLs set in Alibaba's console. A receipt::

    {"phone_number": "1381111****", "send_time": "2017-01-01 00:00:00", "report_time": "2017-01-01 00:00:05",
     "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1",
     "biz_id": "<SendSms's BizId>", "out_id": "<our reference, SendSms's OutId>"}

A reply::

    {"phone_number": "13811111111", "send_time": "2017-09-01 00:00:00", "content": "退订",
     "sign_name": "<our sign>", "dest_code": "1234", "sequence_id": 1234567890}

Times are Beijing time without a zone (``yyyy-MM-dd HH:mm:ss``); the parsers return aware datetimes.

The push is not signed, so the only proof that it comes from Alibaba is a secret in the URL we gave it
(``/outreach/receipts/sms/<secret>/``, ``/outreach/replies/sms/<secret>/``): the endpoint checks it with
``receipt_secret_valid`` before reading the body, then parses it with ``sms_receipts_parse`` or
``sms_uplinks_parse`` and answers HTTP 200 with ``RECEIPT_ANSWER`` as JSON. Alibaba pushes again (after
1, 5 and 10 minutes) on any other status or a timeout, so an endpoint that could not store a push answers
5xx; a body that does not parse (``ReceiptMalformed``, whose message names the item, the field and the
value) will not parse next time either. The same receipt may come twice: storing it must be idempotent.
"""

import hmac
import json
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from backoffice.kernel.outbound.console import masked_recipient

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
# Alibaba checks only that the answer's code is a number; the message is ours.
RECEIPT_ANSWER = {"code": 0, "msg": "成功"}
# The documented form first; the compact one appears in older examples of the reply push.
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S")


class ReceiptMalformed(ValueError):
    """A pushed body that is not what Alibaba documents; the message names the item, the field and the value."""


@dataclass(frozen=True)
class Receipt:
    """The fate of one SMS: delivered to the handset or not, and when the carrier said so.

    ``provider_message_id`` is SendSms's BizId (``Accepted.provider_message_id``); ``reference`` is our
    ``Outgoing.reference`` (empty if Alibaba did not carry it). ``error_code`` is the carrier's status
    (``DELIVERED`` on success, e.g. ``MK:0001`` or ``UNDELIV`` otherwise), ``error_message`` its words.
    """

    provider_message_id: str
    reference: str
    delivered: bool
    at: datetime
    error_code: str
    error_message: str


@dataclass(frozen=True)
class Uplink:
    """A text a customer sent back to our sign's number, as the carrier received it."""

    phone_number: str
    text: str
    at: datetime
    provider_sequence_id: str


def receipt_secret_valid(secret_from_url: str) -> bool:
    """Tell whether the secret in a push's URL is ``SMS_RECEIPT_SECRET``, compared in constant time.

    With no secret configured nothing is valid: the push endpoints are closed.
    """
    expected = settings.SMS_RECEIPT_SECRET
    return bool(expected) and hmac.compare_digest(secret_from_url.encode(), expected.encode())


def sms_receipts_parse(body: bytes) -> list[Receipt]:
    """Return the receipts of one ``SmsReport`` push; raise ``ReceiptMalformed`` naming what is wrong."""
    return [_receipt(index, item) for index, item in enumerate(_items(body))]


def sms_uplinks_parse(body: bytes) -> list[Uplink]:
    """Return the replies of one ``SmsUp`` push; raise ``ReceiptMalformed`` naming what is wrong."""
    return [_uplink(index, item) for index, item in enumerate(_items(body))]


def _items(body: bytes) -> list[dict]:
    try:
        items = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReceiptMalformed("The body is not UTF-8.") from None
    except ValueError as exc:
        raise ReceiptMalformed(f"The body is not JSON: {exc}.") from None
    if not isinstance(items, list):
        raise ReceiptMalformed(f"The body is a JSON {type(items).__name__}, not an array.")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ReceiptMalformed(f"Item {index} is a JSON {type(item).__name__}, not an object.")
    return items


def _receipt(index: int, item: dict) -> Receipt:
    return Receipt(
        provider_message_id=_identifier(index, item, "biz_id"),
        reference=_text(index, item, "out_id"),
        delivered=_flag(index, item, "success"),
        at=_beijing_time(index, item, "report_time"),
        error_code=_text(index, item, "err_code"),
        error_message=_text(index, item, "err_msg"),
    )


def _uplink(index: int, item: dict) -> Uplink:
    phone_number = item.get("phone_number")
    if not isinstance(phone_number, str) or not phone_number.strip():
        shown = masked_recipient(phone_number) if isinstance(phone_number, str) else repr(phone_number)
        raise ReceiptMalformed(f"Item {index}: phone_number {shown} is not a phone number.")
    content = item.get("content")
    if not isinstance(content, str):
        # Never the value itself: a customer's words have no place in a log.
        raise ReceiptMalformed(f"Item {index}: content is a {type(content).__name__}, not a text.")
    return Uplink(
        phone_number=phone_number.strip(),
        text=content,
        at=_beijing_time(index, item, "send_time"),
        provider_sequence_id=_identifier(index, item, "sequence_id"),
    )


def _identifier(index: int, item: dict, field: str) -> str:
    value = item.get(field)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ReceiptMalformed(f"Item {index}: {field}={value!r} is not an identifier.")
    return value.strip()


def _text(index: int, item: dict, field: str) -> str:
    value = item.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReceiptMalformed(f"Item {index}: {field}={value!r} is not a text.")
    return value


def _flag(index: int, item: dict, field: str) -> bool:
    value = item.get(field)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ReceiptMalformed(f"Item {index}: {field}={value!r} is not true or false.")


def _beijing_time(index: int, item: dict, field: str) -> datetime:
    value = item.get(field)
    if isinstance(value, str):
        for time_format in TIME_FORMATS:
            try:
                return datetime.strptime(value.strip(), time_format).replace(tzinfo=BEIJING)
            except ValueError:
                continue
    raise ReceiptMalformed(f"Item {index}: {field}={value!r} is not a Beijing time such as 2026-03-02 09:00:00.")
