"""The demo's providers: they print one line of headers per message and accept it.

Never the body, the parameters or an attachment, and the recipient masked: the console is a log.
"""

import sys
import uuid

from backoffice.kernel.outbound.message import Accepted, Outgoing


def masked_recipient(to: str) -> str:
    """Return the recipient as a log may show it: ``138****1234``, ``z***@example.com``."""
    if "@" in to:
        local, _at, domain = to.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(to) >= 7:
        return f"{to[:3]}****{to[-4:]}"
    return "***"


class ConsoleProvider:
    """Accept every message and print its headers to standard output."""

    name = "console"

    def send(self, outgoing: Outgoing) -> Accepted:
        """Print the message's headers and accept it under a fresh id."""
        provider_message_id = f"console-{uuid.uuid4().hex}"
        sys.stdout.write(
            f"[{outgoing.channel}] reference={outgoing.reference} to={masked_recipient(outgoing.to)}"
            f" language={outgoing.language} template={outgoing.template_code or '-'}"
            f" characters={len(outgoing.text)} id={provider_message_id}\n"
        )
        sys.stdout.flush()
        return Accepted(provider=self.name, provider_message_id=provider_message_id)
