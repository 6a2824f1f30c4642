"""E-mailed letters leave through a real mail server and are sent only once it accepted them; registered post
is sent on hand-over and arrives when its delivery is recorded."""

import datetime
import hashlib
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.services import payment_post
from backoffice.celery import app as celery_app
from backoffice.kernel.events import Event, EventType
from cases.models import ContactRefusal
from letters.choices import LetterStatus
from letters.dispatch import letter_dispatch, letter_record_delivery, letters_send_due
from letters.models import Letter

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
AFTERNOON = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=SHANGHAI)
LATE_EVENING = datetime.datetime(2026, 11, 30, 22, 30, tzinfo=SHANGHAI)
NEXT_MORNING = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def email(approved, legal, django_capture_on_commit_callbacks):
    """Send the approved letter by e-mail as a person does: tried once right after the dispatch commits."""

    def send(address="nana@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            letter_dispatch(letter=approved, actor=legal, channel="email", address=address)
        return Letter.objects.get(pk=approved.pk)

    return send


def attachment_of(message):
    (part,) = list(message.iter_attachments())
    return part.get_filename(), part.get_content_type(), part.get_content()


def test_an_emailed_letter_is_sent_once_the_mail_server_accepted_it_with_the_approved_pdf(email, smtp_server):
    with time_machine.travel(AFTERNOON):
        sent = email()
    assert sent.status == LetterStatus.SENT
    (message,) = smtp_server.received
    assert message["Subject"] == f"律师函 {sent.number}"
    assert message["To"] == "nana@example.com"
    assert "随函附上" in message.get_body(("plain",)).get_content()
    name, kind, content = attachment_of(message)
    assert (name, kind) == (f"{sent.number}.pdf", "application/pdf")
    assert hashlib.sha256(content).hexdigest() == sent.approved_sha256
    assert sent.provider_message_id == message["Message-ID"]
    # For e-mail the accepted delivery is the arrival: the limitation period is interrupted that day.
    assert sent.arrived_at == sent.sent_at
    assert sent.limitation_interrupted_on == AFTERNOON.date()
    assert Event.objects.filter(type=EventType.LETTER_SENT, data__letter=sent.number).count() == 1


def test_a_refusing_mail_server_leaves_the_letter_approved_with_the_error_and_a_next_try(email, smtp_server):
    smtp_server.answers = ["550 5.7.1 Message rejected by policy"]
    with time_machine.travel(AFTERNOON, tick=False):
        queued = email()
        assert queued.next_attempt_at == timezone.now() + datetime.timedelta(minutes=5)
    assert (queued.status, queued.dispatch_attempts) == (LetterStatus.APPROVED, 1)
    assert "550 5.7.1 Message rejected by policy" in queued.dispatch_last_error
    assert (queued.sent_at, queued.arrived_at, queued.limitation_interrupted_on) == (None, None, None)
    assert smtp_server.received == []
    assert not Event.objects.filter(type=EventType.LETTER_SENT).exists()


def test_a_temporary_refusal_is_tried_again_when_due_waiting_longer_each_time_and_then_succeeds(email, smtp_server):
    smtp_server.answers = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    with time_machine.travel(AFTERNOON, tick=False):
        first = email()
    assert letters_send_due(now=first.next_attempt_at - datetime.timedelta(seconds=1)) == 0  # not yet due
    assert letters_send_due(now=first.next_attempt_at) == 0
    second = Letter.objects.get(pk=first.pk)
    assert second.next_attempt_at - first.next_attempt_at == datetime.timedelta(minutes=10)  # twice the first wait
    assert letters_send_due(now=second.next_attempt_at) == 1
    sent = Letter.objects.get(pk=first.pk)
    assert (sent.status, sent.dispatch_attempts, sent.dispatch_last_error) == (LetterStatus.SENT, 3, "")
    assert len(smtp_server.received) == 1


def test_after_the_last_try_the_letter_waits_for_a_person_who_can_send_it_again(
    email, smtp_server, settings, legal, django_capture_on_commit_callbacks
):
    settings.LETTER_EMAIL_MAX_ATTEMPTS = 2
    smtp_server.answers = ["451 4.3.0 Try again later"] * 2
    with time_machine.travel(AFTERNOON, tick=False):
        first = email()
        letters_send_due(now=first.next_attempt_at)
        failed = Letter.objects.get(pk=first.pk)
        assert (failed.status, failed.dispatch_attempts, failed.next_attempt_at) == (
            LetterStatus.DISPATCH_FAILED,
            2,
            None,
        )
        assert "451" in failed.dispatch_last_error
        assert letters_send_due(now=first.next_attempt_at + datetime.timedelta(days=1)) == 0
        with django_capture_on_commit_callbacks(execute=True):
            letter_dispatch(letter=failed, actor=legal, channel="email", address=failed.dispatch_address)
    assert Letter.objects.get(pk=first.pk).status == LetterStatus.SENT
    assert len(smtp_server.received) == 1


def test_sending_again_after_a_failure_re_checks_the_case_first(
    email, smtp_server, settings, legal, django_capture_on_commit_callbacks
):
    settings.LETTER_EMAIL_MAX_ATTEMPTS = 1
    smtp_server.answers = ["451 4.3.0 Try again later"]
    with time_machine.travel(AFTERNOON, tick=False):
        failed = email()
        assert failed.status == LetterStatus.DISPATCH_FAILED
        pay_in_full(failed)
        result = letter_dispatch(letter=failed, actor=legal, channel="email", address=failed.dispatch_address)
    assert result.status == LetterStatus.CANCELLED
    assert result.cancellation_reason
    assert smtp_server.received == []


def pay_in_full(letter):
    payment_post(
        credit_line=letter.case.credit_line,
        external_reference=f"FULL-{letter.pk}",
        amount=letter.snapshot["amounts"]["total"].replace(",", ""),
        channel="bank_transfer",
        received_at=timezone.now(),
    )


def test_outside_the_customers_hours_the_email_waits_for_them_to_begin(email, smtp_server):
    with time_machine.travel(LATE_EVENING, tick=False):
        queued = email()
        assert queued.next_attempt_at == NEXT_MORNING
        assert letters_send_due() == 0
    assert (queued.status, queued.dispatch_attempts, queued.dispatch_last_error) == (LetterStatus.APPROVED, 0, "")
    assert smtp_server.received == []
    with time_machine.travel(NEXT_MORNING):
        assert letters_send_due() == 1
    assert Letter.objects.get(pk=queued.pk).limitation_interrupted_on == NEXT_MORNING.date()


def test_a_payment_in_full_before_the_try_cancels_the_queued_letter(email, smtp_server):
    with time_machine.travel(LATE_EVENING, tick=False):
        queued = email()
        pay_in_full(queued)
    with time_machine.travel(NEXT_MORNING):
        assert letters_send_due() == 0
    cancelled = Letter.objects.get(pk=queued.pk)
    assert (cancelled.status, cancelled.next_attempt_at) == (LetterStatus.CANCELLED, None)
    assert cancelled.cancellation_reason
    assert smtp_server.received == []


@pytest.mark.parametrize(
    ("flag", "value", "code"),
    [("consents_to_email", False, "CONSENT_WITHDRAWN"), ("do_not_contact", True, "DO_NOT_CONTACT")],
)
def test_a_customer_who_opts_out_after_the_letter_was_queued_gets_no_email(email, smtp_server, flag, value, code):
    with time_machine.travel(LATE_EVENING, tick=False):
        queued = email()
    customer = queued.case.credit_line.customer
    setattr(customer, flag, value)
    customer.save()
    with time_machine.travel(NEXT_MORNING):
        letters_send_due()
    failed = Letter.objects.get(pk=queued.pk)
    assert failed.status == LetterStatus.DISPATCH_FAILED
    assert code in failed.dispatch_last_error
    assert smtp_server.received == []
    # The poll's refusal is the system's, recorded for the compliance report.
    assert list(ContactRefusal.objects.values_list("case_id", "channel", "rule", "agent")) == [
        (queued.case_id, "email", code, None)
    ]


def test_a_pdf_changed_after_approval_is_never_emailed(email, smtp_server):
    with time_machine.travel(LATE_EVENING, tick=False):
        queued = email()
    with queued.pdf.open("rb") as handle:
        tampered = handle.read() + b"%tampered"
    queued.pdf.storage.delete(queued.pdf.name)
    assert queued.pdf.storage.save(queued.pdf.name, ContentFile(tampered)) == queued.pdf.name
    with time_machine.travel(NEXT_MORNING):
        letters_send_due()
    failed = Letter.objects.get(pk=queued.pk)
    assert (failed.status, failed.dispatch_last_error) == (
        LetterStatus.DISPATCH_FAILED,
        "The PDF is not the one approved.",
    )
    assert smtp_server.received == []


def test_a_queued_letter_is_not_dispatched_a_second_time(email, legal):
    with time_machine.travel(LATE_EVENING, tick=False):
        queued = email()
        with pytest.raises(ValidationError, match="already queued"):
            letter_dispatch(letter=queued, actor=legal, channel="post", carrier="EMS", tracking_number="EMS1")


@pytest.mark.parametrize("address", ["@", "nana@", "nana@example.com\nBcc: all@example.com", "nana example.com"])
def test_a_malformed_email_address_is_refused_naming_the_field_and_the_value(approved, legal, address):
    with pytest.raises(ValidationError) as caught:
        letter_dispatch(letter=approved, actor=legal, channel="email", address=address)
    assert repr(address) in caught.value.message_dict["address"][0]
    unchanged = Letter.objects.get(pk=approved.pk)
    assert (unchanged.status, unchanged.next_attempt_at, unchanged.dispatch_address) == (
        LetterStatus.APPROVED,
        None,
        "",
    )


def test_an_address_with_a_newline_on_the_review_page_is_refused_with_a_message_not_a_server_error(
    client, approved, legal, smtp_server
):
    client.force_login(legal)
    url = reverse("admin:letters_letter_act", args=[approved.pk, "dispatch"])
    address = "nana@example.com\nBcc: everyone@example.com"
    with time_machine.travel(AFTERNOON):
        response = client.post(url, {"channel": "email", "address": address}, follow=True)
    assert response.status_code == 200
    assert "is not valid" in response.content.decode()
    unchanged = Letter.objects.get(pk=approved.pk)
    assert (unchanged.status, unchanged.next_attempt_at) == (LetterStatus.APPROVED, None)
    assert smtp_server.received == []


@pytest.mark.django_db(transaction=True)
def test_sending_from_the_review_page_says_the_mail_server_accepted_it(
    shipped_data, client, approved, legal, smtp_server
):
    # Committed for real, as in production: the try runs when the dispatch commits, before the page answers.
    client.force_login(legal)
    url = reverse("admin:letters_letter_act", args=[approved.pk, "dispatch"])
    with time_machine.travel(AFTERNOON):
        response = client.post(url, {"channel": "email", "address": "nana@example.com"}, follow=True)
    assert "the mail server accepted it" in response.content.decode()
    assert Letter.objects.get(pk=approved.pk).status == LetterStatus.SENT


def test_send_letters_sends_what_is_due_and_says_what_is_left(email, smtp_server):
    smtp_server.answers = ["451 4.3.0 Try again later"]
    with time_machine.travel(AFTERNOON, tick=False):
        queued = email()
    output = io.StringIO()
    with time_machine.travel(queued.next_attempt_at):
        call_command("send_letters", stdout=output)
    assert output.getvalue().strip() == "Sent 1 letter(s) by e-mail; 0 queued for a later try."


def test_registered_post_goes_to_the_customers_postal_address_and_arrives_when_its_delivery_is_recorded(
    approved, legal
):
    with time_machine.travel(AFTERNOON, tick=False):
        sent = letter_dispatch(letter=approved, actor=legal, channel="post", carrier="EMS", tracking_number="EMS9")
    assert sent.status == LetterStatus.SENT
    assert (sent.dispatch_address, sent.carrier, sent.tracking_number) == (
        "广东省深圳市南山区科技园路 88 号 3 栋 1201",
        "EMS",
        "EMS9",
    )
    assert (sent.sent_at, sent.arrived_at, sent.limitation_interrupted_on) == (AFTERNOON, None, None)
    delivered = AFTERNOON + datetime.timedelta(days=2)
    with time_machine.travel(delivered + datetime.timedelta(hours=3), tick=False):
        arrived = letter_record_delivery(letter=sent, actor=legal, arrived_at=delivered)
    assert (arrived.arrived_at, arrived.arrival_recorded_by) == (delivered, legal)
    assert arrived.limitation_interrupted_on == delivered.date()


@pytest.mark.parametrize(
    ("arrived_at", "message"),
    [
        (AFTERNOON - datetime.timedelta(hours=1), "before the letter was sent"),
        (AFTERNOON + datetime.timedelta(days=3), "in the future"),
    ],
)
def test_a_delivery_before_the_sending_or_in_the_future_is_refused(approved, legal, arrived_at, message):
    with time_machine.travel(AFTERNOON, tick=False):
        sent = letter_dispatch(letter=approved, actor=legal, channel="post", carrier="EMS", tracking_number="EMS9")
    with (
        time_machine.travel(AFTERNOON + datetime.timedelta(days=1), tick=False),
        pytest.raises(ValidationError) as caught,
    ):
        letter_record_delivery(letter=sent, actor=legal, arrived_at=arrived_at)
    assert message in caught.value.message_dict["arrived_at"][0]
    assert Letter.objects.get(pk=sent.pk).limitation_interrupted_on is None


def test_a_person_records_the_delivery_on_the_review_page(client, approved, legal):
    with time_machine.travel(AFTERNOON, tick=False):
        sent = letter_dispatch(letter=approved, actor=legal, channel="post", carrier="EMS", tracking_number="EMS9")
    client.force_login(legal)
    page = client.get(reverse("admin:letters_letter_change", args=[sent.pk])).content.decode()
    assert 'id="delivery-form"' in page
    url = reverse("admin:letters_letter_act", args=[sent.pk, "record_delivery"])
    with time_machine.travel(datetime.datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI)):
        client.force_login(legal)  # days later: a new session (an idle one ends after 30 minutes)
        response = client.post(url, {"arrived_at": "2026-12-02T10:15"}, follow=True)
    assert "limitation period is interrupted on 2026-12-02" in response.content.decode()
    arrived = Letter.objects.get(pk=sent.pk)
    assert timezone.localtime(arrived.arrived_at) == datetime.datetime(2026, 12, 2, 10, 15, tzinfo=SHANGHAI)


def test_registered_post_to_a_customer_without_a_postal_address_is_refused(approved, legal):
    customer = approved.case.credit_line.customer
    customer.address = ""
    customer.save()
    with pytest.raises(ValidationError) as caught:
        letter_dispatch(letter=approved, actor=legal, channel="post", carrier="EMS", tracking_number="EMS9")
    assert "postal address" in caught.value.message_dict["address"][0]
    assert Letter.objects.get(pk=approved.pk).status == LetterStatus.APPROVED


def test_beat_polls_the_letter_task_which_sends_what_is_due(email, smtp_server):
    celery_app.loader.import_default_modules()  # as a worker does at start: the autodiscovered task modules
    entry = celery_app.conf.beat_schedule["letters-send-due"]
    assert entry["task"] == "letters.send_due"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] <= 60
    with time_machine.travel(LATE_EVENING, tick=False):
        email()
    with time_machine.travel(NEXT_MORNING):
        assert celery_app.tasks["letters.send_due"]() == 1
    assert len(smtp_server.received) == 1


def test_a_letter_goes_only_to_the_customers_email_on_file_never_a_typed_in_one(email, smtp_server):
    with time_machine.travel(AFTERNOON), pytest.raises(ValidationError, match="not the customer's e-mail on file"):
        email("hr@employer.example")
    assert smtp_server.received == []
    with time_machine.travel(AFTERNOON):
        assert email("Nana@Example.com").status == LetterStatus.SENT
