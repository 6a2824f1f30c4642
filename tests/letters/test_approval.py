"""Four eyes, lawyers of the issuing firm, hash-bound approval, and dispatch that re-checks the case."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.services import payment_post
from backoffice.kernel.roles import LEGAL
from cases.casework.services import case_hold
from cases.models import Case, ContactRefusal, DunningPolicy
from cases.workload.services import case_assign
from letters.choices import LetterStatus
from letters.dispatch import letter_dispatch
from letters.models import Letter
from letters.services import letter_approve, letter_redraft, letter_reject
from tests.factories import overdue_line, user_in
from tests.letters.conftest import DUE

pytestmark = pytest.mark.django_db

# E-mail is sent only inside the customer's contact window (08:00-22:00 in Shanghai).
SHANGHAI_AFTERNOON = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def test_the_requester_can_never_approve_their_own_letter(legal_case, lawyer_template, legal, draft_rendered):
    own = draft_rendered(case=legal_case, template=lawyer_template, actor=legal)
    with pytest.raises(PermissionDenied, match="someone else"):
        letter_approve(letter=own, actor=legal, seen_sha256=own.pdf_sha256)
    assert Letter.objects.get(pk=own.pk).status == LetterStatus.PENDING_APPROVAL


def test_a_lawyer_letter_is_approved_only_by_a_lawyer_of_the_issuing_firm(letter):
    reviewer_without_firm = user_in(LEGAL)
    with pytest.raises(PermissionDenied, match="only a lawyer of that firm"):
        letter_approve(letter=letter, actor=reviewer_without_firm, seen_sha256=letter.pdf_sha256)


def test_a_lawyer_of_the_firm_approves_the_pdf_they_saw(letter, legal):
    approved = letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    assert (approved.status, approved.approved_by, approved.approved_sha256) == (
        LetterStatus.APPROVED,
        legal,
        letter.pdf_sha256,
    )


def test_agents_cannot_approve(letter, agent):
    with pytest.raises(PermissionDenied):
        letter_approve(letter=letter, actor=agent, seen_sha256=letter.pdf_sha256)


def test_an_agent_posting_an_approval_in_the_admin_is_refused(client, letter, agent, supervisor):
    case_assign(case=letter.case, actor=supervisor, assignee=agent)  # the agent sees the letter
    client.force_login(agent)
    url = reverse("admin:letters_letter_act", args=[letter.pk, "approve"])
    response = client.post(url, {"seen_sha256": letter.pdf_sha256}, follow=True)
    assert "not allowed to approve" in response.content.decode()
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.PENDING_APPROVAL


def test_an_agent_sees_only_the_letters_of_their_own_cases(client, letter, agent, supervisor, legal):
    client.force_login(agent)
    assert letter.number not in client.get(reverse("admin:letters_letter_changelist")).content.decode()
    for screen in ("admin:letters_letter_change", "admin:letters_letter_pdf"):
        assert client.get(reverse(screen, args=[letter.pk])).status_code == 404
    case_assign(case=letter.case, actor=supervisor, assignee=agent)
    assert letter.number in client.get(reverse("admin:letters_letter_changelist")).content.decode()
    assert client.get(reverse("admin:letters_letter_pdf", args=[letter.pk])).status_code == 200
    client.force_login(legal)
    assert letter.number in client.get(reverse("admin:letters_letter_changelist")).content.decode()


def test_a_legal_reviewer_approves_from_the_review_page(client, letter, legal):
    client.force_login(legal)
    page = client.get(reverse("admin:letters_letter_change", args=[letter.pk])).content.decode()
    assert letter.pdf_sha256 in page
    assert 'id="approve-form"' in page
    client.post(reverse("admin:letters_letter_act", args=[letter.pk, "approve"]), {"seen_sha256": letter.pdf_sha256})
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED
    pdf = client.get(reverse("admin:letters_letter_pdf", args=[letter.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"


def test_bulk_approval_confirms_first_and_keeps_four_eyes(
    client, legal_case, lawyer_template, agent, legal, run_dunning, draft_rendered
):
    lines = [overdue_line(due=DUE) for _ in range(2)]
    DunningPolicy.objects.update(legal_letter_template="")  # the letters here are people's requests, not the night's
    run_dunning(datetime.date(2026, 3, 20))
    first, second = (Case.objects.with_customer().get(credit_line=line) for line in lines)
    theirs = [draft_rendered(case=case, template=lawyer_template, actor=agent) for case in (legal_case, first)]
    own = draft_rendered(case=second, template=lawyer_template, actor=legal)
    client.force_login(legal)
    url = reverse("admin:letters_letterawaitingapproval_changelist")
    ids = [str(letter.pk) for letter in [*theirs, own]]
    confirmation = client.post(url, {"action": "approve_selected", "_selected_action": ids})
    assert confirmation.status_code == 200
    body = confirmation.content.decode()
    assert all(letter.number in body for letter in [*theirs, own])
    assert Letter.objects.filter(status=LetterStatus.APPROVED).count() == 0
    shas = {f"sha_{letter.pk}": letter.pdf_sha256 for letter in [*theirs, own]}
    client.post(url, {"action": "approve_selected", "_selected_action": ids, "confirm": "yes", **shas})
    statuses = dict(Letter.objects.values_list("pk", "status"))
    assert [statuses[letter.pk] for letter in theirs] == [LetterStatus.APPROVED] * 2
    assert statuses[own.pk] == LetterStatus.PENDING_APPROVAL


def test_a_payment_in_full_between_approval_and_dispatch_cancels_the_letter(letter, legal):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    payment_post(
        credit_line=letter.case.credit_line,
        external_reference="FULL-1",
        amount=letter.snapshot["amounts"]["total"].replace(",", ""),
        channel="bank_transfer",
        received_at=timezone.now(),
    )
    result = letter_dispatch(letter=letter, actor=legal, channel="email", address="nana@example.com")
    assert result.status == LetterStatus.CANCELLED
    assert "payment" in result.cancellation_reason
    assert result.sent_at is None
    assert mail.outbox == []


def test_a_letter_for_a_case_put_on_hold_after_approval_is_cancelled(letter, legal, agent):

    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    case_hold(
        case=letter.case,
        actor=agent,
        reason_code="dispute",
        note="有争议",
        until=timezone.localdate() + datetime.timedelta(days=5),
    )
    result = letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS123")
    assert result.status == LetterStatus.CANCELLED


def test_sending_by_email_attaches_the_pdf_and_records_the_limitation_interruption_once_accepted(
    letter, legal, django_capture_on_commit_callbacks
):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    with time_machine.travel(SHANGHAI_AFTERNOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        queued = letter_dispatch(letter=letter, actor=legal, channel="email", address="nana@example.com")
        assert (queued.status, mail.outbox) == (LetterStatus.APPROVED, [])  # nothing leaves before the commit
    sent = Letter.objects.get(pk=letter.pk)
    assert sent.status == LetterStatus.SENT
    assert sent.limitation_interrupted_on == SHANGHAI_AFTERNOON.date()
    assert len(mail.outbox) == 1
    (name, content, kind) = mail.outbox[0].attachments[0]
    assert (name, kind) == (f"{letter.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


def test_post_needs_carrier_and_tracking_number(letter, legal):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    with pytest.raises(ValidationError) as caught:
        letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS")
    assert "tracking_number" in caught.value.message_dict


def test_a_rejected_letter_is_redrafted_as_a_new_letter_and_the_old_one_stays(
    letter, legal, agent, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError):
        letter_reject(letter=letter, actor=legal, reason=" ")
    letter_reject(letter=letter, actor=legal, reason="金额需复核")
    with django_capture_on_commit_callbacks(execute=True):
        new = letter_redraft(letter=letter, actor=agent)
    letter.refresh_from_db()
    new.refresh_from_db()
    assert (letter.status, letter.rejection_reason) == (LetterStatus.REJECTED, "金额需复核")
    assert new.number != letter.number
    assert (new.redraft_of, new.status) == (letter, LetterStatus.PENDING_APPROVAL)


def test_a_sent_letter_cannot_be_approved_or_sent_again(letter, legal):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS1")
    with pytest.raises(ValidationError):
        letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS2")
    with pytest.raises(ValidationError):
        letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)


def test_an_email_outside_the_customers_window_waits_for_it_and_the_letter_stays_approved(letter, legal):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    late = SHANGHAI_AFTERNOON.replace(hour=22, minute=30)
    with time_machine.travel(late, tick=False):
        queued = letter_dispatch(letter=letter, actor=legal, channel="email", address="nana@example.com")
    assert queued.next_attempt_at == SHANGHAI_AFTERNOON.replace(hour=8) + datetime.timedelta(days=1)
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.APPROVED
    assert not mail.outbox


def test_an_email_to_a_customer_who_withdrew_email_consent_is_refused_but_registered_post_goes(letter, legal):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    customer = letter.case.credit_line.customer
    customer.consents_to_email = False
    customer.save()
    with time_machine.travel(SHANGHAI_AFTERNOON, tick=False), pytest.raises(ValidationError) as caught:
        letter_dispatch(letter=letter, actor=legal, channel="email", address="nana@example.com")
    assert caught.value.error_list[0].code == "CONSENT_WITHDRAWN"
    refused = ContactRefusal.objects.get()
    assert (refused.case_id, refused.channel, refused.rule, refused.agent) == (
        letter.case_id,
        "email",
        "CONSENT_WITHDRAWN",
        legal,
    )
    sent = letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS9")
    assert sent.status == LetterStatus.SENT


def test_an_email_to_a_do_not_contact_customer_is_refused_but_registered_post_goes(letter, legal):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    customer = letter.case.credit_line.customer
    customer.do_not_contact = True
    customer.save()
    with time_machine.travel(SHANGHAI_AFTERNOON, tick=False), pytest.raises(ValidationError) as caught:
        letter_dispatch(letter=letter, actor=legal, channel="email", address="nana@example.com")
    assert caught.value.error_list[0].code == "DO_NOT_CONTACT"
    refused = ContactRefusal.objects.get()
    assert (refused.case_id, refused.channel, refused.rule, refused.agent) == (
        letter.case_id,
        "email",
        "DO_NOT_CONTACT",
        legal,
    )
    sent = letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS9")
    assert sent.status == LetterStatus.SENT
