"""The e-mail provider against a real mail server on 127.0.0.1: accepted only when the server took it, every
refusal a ``SendFailed`` saying whether a later try can help, and a demo console that prints headers only."""

import io

import pytest
from django.core.mail import EmailMessage

from backoffice.kernel import outbound
from backoffice.kernel.outbound.email import HeadersOnlyConsoleBackend
from tests.smtp_server import free_port

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8


def letter_mail(to: str = "nana@example.com") -> outbound.Outgoing:
    return outbound.Outgoing(
        channel="email",
        reference="LF-2026-000001",
        to=to,
        language="en",
        subject="Lawyer's letter LF-2026-000001",
        text="Please find attached letter LF-2026-000001.",
        attachments=(outbound.Attachment("LF-2026-000001.pdf", PDF, "application/pdf"),),
    )


def test_a_message_the_server_accepted_comes_back_with_its_message_id_and_its_attachment_intact(smtp_server):
    accepted = outbound.send(letter_mail())
    (message,) = smtp_server.received
    assert accepted.provider_message_id == message["Message-ID"]
    assert message["X-Reference"] == "LF-2026-000001"
    assert smtp_server.envelopes == [("letters@example.com", ["nana@example.com"])]
    (attachment,) = list(message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("LF-2026-000001.pdf", PDF)


@pytest.mark.parametrize(("answer", "permanent"), [("550 5.7.1 Refused", True), ("451 4.3.0 Busy", False)])
def test_a_refusal_says_its_code_and_whether_trying_again_can_help(smtp_server, answer, permanent):
    smtp_server.answers = [answer]
    with pytest.raises(outbound.SendFailed) as caught:
        outbound.send(letter_mail())
    assert (caught.value.code, caught.value.permanent) == (answer[:3], permanent)
    assert answer[4:] in str(caught.value)
    assert smtp_server.received == []


def test_a_mail_server_that_is_down_is_a_failure_to_try_again(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with pytest.raises(outbound.SendFailed) as caught:
        outbound.send(letter_mail())
    assert (caught.value.code, caught.value.permanent) == ("connection", False)


@pytest.mark.parametrize("to", ["nana@example.com\nBcc: everyone@example.com", "nana@exa\rmple.com"])
def test_an_address_with_a_line_break_is_a_permanent_failure_not_an_error_and_nothing_is_sent(smtp_server, to):
    with pytest.raises(outbound.SendFailed) as caught:
        outbound.send(letter_mail(to=to))
    assert (caught.value.code, caught.value.permanent) == ("invalid", True)
    assert smtp_server.received == []


def test_the_demo_console_prints_headers_and_attachment_names_never_the_body_or_the_full_address():
    stream = io.StringIO()
    message = EmailMessage("Lawyer's letter LF-2026-000001", "欧阳娜娜 owes 6,543.21", to=["nana@example.com"])
    message.attach("LF-2026-000001.pdf", PDF, "application/pdf")
    HeadersOnlyConsoleBackend(stream=stream).send_messages([message])
    printed = stream.getvalue()
    assert "To: n***@example.com" in printed
    assert "Attachments: LF-2026-000001.pdf" in printed
    assert "欧阳娜娜" not in printed
    assert "6,543.21" not in printed
    assert "nana@" not in printed
