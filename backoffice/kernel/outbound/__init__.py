"""One interface for everything the product sends a customer: SMS, e-mail and app push.

Callers build an ``Outgoing`` and call ``send``; the provider for each channel is chosen by
settings (``OUTBOUND_PROVIDERS``, read from the environment), so the demo prints to the console
and production talks to the real services through the same call. A provider either returns
``Accepted`` with its own id for the message (which its delivery receipts quote back) or raises
``SendFailed``, saying whether trying again could help.

What a provider logs or prints is headers only: never a body, an attachment or a full number.

Providers: ``console`` (the demo, every channel), ``email`` (Django's mail backend), ``aliyun`` (SMS
through Alibaba Cloud SMS, templates only) and ``push`` (the lender's push service). What the SMS
provider pushes back (delivery receipts, replies) is parsed by ``receipts``; ``optout`` tells a
customer's request to stop.
"""

from backoffice.kernel.outbound.message import Accepted, Attachment, Outgoing, SendFailed
from backoffice.kernel.outbound.optout import is_stop_request
from backoffice.kernel.outbound.receipts import (
    RECEIPT_ANSWER,
    Receipt,
    ReceiptMalformed,
    Uplink,
    receipt_secret_valid,
    sms_receipts_parse,
    sms_uplinks_parse,
)
from backoffice.kernel.outbound.registry import provider_for, send

__all__ = [
    "RECEIPT_ANSWER",
    "Accepted",
    "Attachment",
    "Outgoing",
    "Receipt",
    "ReceiptMalformed",
    "SendFailed",
    "Uplink",
    "is_stop_request",
    "provider_for",
    "receipt_secret_valid",
    "send",
    "sms_receipts_parse",
    "sms_uplinks_parse",
]
