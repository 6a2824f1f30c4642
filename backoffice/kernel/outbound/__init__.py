"""One interface for everything the product sends a customer: SMS, e-mail and app push.

Callers build an ``Outgoing`` and call ``send``; the provider for each channel is chosen by
settings (``OUTBOUND_PROVIDERS``, read from the environment), so the demo prints to the console
and production talks to the real services through the same call. A provider either returns
``Accepted`` with its own id for the message (which its delivery receipts quote back) or raises
``SendFailed``, saying whether trying again could help.

What a provider logs or prints is headers only: never a body, an attachment or a full number.
"""

from backoffice.kernel.outbound.message import Accepted, Attachment, Outgoing, SendFailed
from backoffice.kernel.outbound.registry import provider_for, send

__all__ = ["Accepted", "Attachment", "Outgoing", "SendFailed", "provider_for", "send"]
