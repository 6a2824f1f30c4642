"""App push through the lender's push service: one signed HTTP POST per message.

The lender's app knows its users, we know credit lines; the service maps the one to the other. Each
message is POSTed to ``PUSH_SERVICE_URL`` as JSON (UTF-8)::

    {"id": "<Outgoing.reference>",
     "recipient": "<Outgoing.to: the credit line's contract number, which the app maps to its user>",
     "language": "zh-hans" | "en",
     "title": "<Outgoing.subject>",
     "body": "<Outgoing.text>",
     "sent_at": "<ISO 8601, UTC, e.g. 2026-03-02T01:00:00+00:00>"}

with the headers ``Content-Type: application/json; charset=utf-8``, ``X-Message-Id: <id>`` and
``X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under PUSH_SIGNING_SECRET>``,
signed exactly like our webhooks, so the service checks it the same way (constant-time compare, a
recent ``t``) and drops an ``id`` it has already shown (a retry after a lost answer sends it again).

The request goes through the webhooks' transport: http(s) only, https unless ``WEBHOOK_HTTPS_ONLY`` is
off, public addresses only unless the service's network is listed in ``WEBHOOK_ALLOWED_NETWORKS``, short
timeouts, redirects never followed.

What an answer means: any 2xx is ``Accepted(provider="push", provider_message_id=...)``, the ``id`` of
the service's JSON answer if it gives one, else our reference; a 4xx other than 408 and 429 is a
permanent refusal (an unknown recipient, a body it will never take); anything else (3xx, 408, 429, 5xx,
no connection, a timeout) is temporary.
"""

import json
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from backoffice.kernel.outbound.message import Accepted, Outgoing, SendFailed
from backoffice.kernel.webhooks.signing import signature_header
from backoffice.kernel.webhooks.transport import Answer, DeliveryFailed, post

# Client errors that say "not now" rather than "never": a timeout and a rate limit.
TEMPORARY_CLIENT_ERRORS = frozenset({408, 429})


def push_body(outgoing: Outgoing, *, sent_at: datetime) -> bytes:
    """Return the JSON body the push service receives for ``outgoing``."""
    payload = {
        "id": outgoing.reference,
        "recipient": outgoing.to,
        "language": outgoing.language,
        "title": outgoing.subject,
        "body": outgoing.text,
        "sent_at": sent_at.astimezone(UTC).isoformat(),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class PushProvider:
    """Send app pushes to the lender's push service, signed like our webhooks."""

    name = "push"

    def send(self, outgoing: Outgoing) -> Accepted:
        """POST one push; return the service's id for it (or our reference), or raise ``SendFailed``."""
        now = timezone.now()
        body = push_body(outgoing, sent_at=now)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Message-Id": outgoing.reference,
            "X-Signature": signature_header(
                secret=settings.PUSH_SIGNING_SECRET, timestamp=int(now.timestamp()), body=body
            ),
        }
        try:
            answer = post(settings.PUSH_SERVICE_URL, body=body, headers=headers)
        except DeliveryFailed as exc:
            raise SendFailed(f"The push service could not be reached: {exc}", code="connection") from exc
        return _accepted(answer, reference=outgoing.reference)


def _accepted(answer: Answer, *, reference: str) -> Accepted:
    if 200 <= answer.status < 300:
        return Accepted(provider=PushProvider.name, provider_message_id=_answered_id(answer.excerpt) or reference)
    permanent = 400 <= answer.status < 500 and answer.status not in TEMPORARY_CLIENT_ERRORS
    raise SendFailed(
        f"The push service answered HTTP {answer.status}: {answer.excerpt[:200]}",
        code=f"http_{answer.status}",
        permanent=permanent,
    )


def _answered_id(excerpt: str) -> str:
    try:
        answer = json.loads(excerpt)
    except ValueError:
        return ""
    found = answer.get("id") if isinstance(answer, dict) else None
    return str(found) if isinstance(found, str | int) and not isinstance(found, bool) and str(found) else ""
