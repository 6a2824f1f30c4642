"""E-mail through Django's mail backend (SMTP in production, ``HeadersOnlyConsoleBackend`` in the demo).

A message counts as accepted only when the backend returned without error: for SMTP, when the
server accepted every recipient and the data. A refusal with a 5xx code is permanent; anything
else (a 4xx, a dropped connection, a timeout) is tried again later.
"""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.message import make_msgid

from backoffice.kernel.outbound.console import masked_recipient
from backoffice.kernel.outbound.message import Accepted, Outgoing, SendFailed


class EmailProvider:
    """Send e-mail through the configured Django backend."""

    name = "email"

    def send(self, outgoing: Outgoing) -> Accepted:
        """Send one e-mail; return its Message-ID as the provider's id."""
        message_id = make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)
        message = EmailMessage(
            subject=outgoing.subject,
            body=outgoing.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[outgoing.to],
            headers={"Message-ID": message_id, "X-Reference": outgoing.reference},
            connection=get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT),
        )
        for attachment in outgoing.attachments:
            message.attach(attachment.filename, attachment.content, attachment.mimetype)
        try:
            sent = message.send(fail_silently=False)
        except ValueError as exc:
            # BadHeaderError and a malformed address (a newline, no domain): no server could take it, so a
            # refusal, not an error thrown at a caller that may already have committed.
            raise SendFailed(
                f"The message cannot be sent as addressed: {type(exc).__name__}", code="invalid", permanent=True
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            raise SendFailed(_refusal(exc), code=str(codes[0]), permanent=all(c >= 500 for c in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raise SendFailed(_refusal(exc), code=str(exc.smtp_code), permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}", code="connection") from exc
        if sent != 1:
            # A backend returns how many it sent; none is no acceptance, whatever it did not raise.
            raise SendFailed("The mail backend sent nothing.", code="not-sent")
        return Accepted(provider=self.name, provider_message_id=message_id)


def _refusal(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = [f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values()]
        return "The mail server refused the recipient: " + "; ".join(answers)
    error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"The mail server answered {exc.smtp_code} {error}"


class HeadersOnlyConsoleBackend(ConsoleBackend):
    """Django's console backend, printing an e-mail's headers and attachment names only.

    The demo's e-mail: letters and reminders hold personal data, which has no place in a log.
    """

    def write_message(self, message: EmailMessage) -> None:
        """Print the headers and what is attached, never the body or the files."""
        msg = message.message()
        headers = "".join(f"{key}: {value}\n" for key, value in msg.items() if key.lower() not in ("to", "cc", "bcc"))
        recipients = ", ".join(masked_recipient(address) for address in message.recipients())
        attached = ", ".join(name for name, _content, _type in _named(message.attachments)) or "-"
        self.stream.write(f"{headers}To: {recipients}\nAttachments: {attached}\n{'-' * 79}\n")


def _named(attachments: list) -> list[tuple[str, object, str]]:
    return [a for a in attachments if isinstance(a, tuple)]
