"""Drafting a letter: the number and the frozen data in one transaction, the PDF after it, and what is refused."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Bill
from accounts.services import payment_post
from backoffice.kernel.files.models import StoredFile
from letters.choices import LetterStatus
from letters.dispatch import letter_dispatch
from letters.models import Letter
from letters.services import letter_approve, letter_draft

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 3, 20)


def test_a_letter_is_rendered_only_once_its_drafting_has_committed(
    legal_case, lawyer_template, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        letter = letter_draft(case=legal_case, template=lawyer_template, actor=agent, as_of=AS_OF)
        # Inside the drafting transaction: a number and a snapshot, no PDF yet.
        assert (letter.number, letter.status, bool(letter.pdf)) == ("LF-2026-000001", LetterStatus.DRAFT, False)
    assert len(callbacks) == 1
    callbacks[0]()
    letter.refresh_from_db()
    assert (letter.status, len(letter.pdf_sha256)) == (LetterStatus.PENDING_APPROVAL, 64)


def test_a_drafting_that_rolls_back_leaves_no_letter_no_number_and_no_file(
    legal_case, lawyer_template, agent, settings, django_capture_on_commit_callbacks
):
    class Rollback(Exception):
        pass

    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            letter_draft(case=legal_case, template=lawyer_template, actor=agent, as_of=AS_OF)
            raise Rollback
    except Rollback:
        pass
    assert not Letter.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))
    assert not StoredFile.objects.exists()
    again = letter_draft(case=legal_case, template=lawyer_template, actor=agent, as_of=AS_OF)
    assert again.number == "LF-2026-000001"  # the number came back


def test_no_letter_is_drafted_for_a_case_with_nothing_overdue(legal_case, lawyer_template, agent):
    payment_post(
        credit_line=legal_case.credit_line,
        external_reference="SAME-DAY-FULL",
        amount="6543.21",
        channel="alipay",
        received_at=timezone.now(),
    )
    with pytest.raises(ValidationError, match=rf"Case {legal_case.number} has nothing overdue on 2026-03-20 \(¥0.00\)"):
        letter_draft(case=legal_case, template=lawyer_template, actor=agent, as_of=AS_OF)
    assert not Letter.objects.exists()


def test_a_second_letter_for_a_case_whose_first_awaits_approval_is_refused_naming_it(letter, lawyer_template, agent):
    with pytest.raises(ValidationError, match=rf"already has letter {letter.number} \(awaiting approval\)"):
        letter_draft(case=letter.case, template=lawyer_template, actor=agent, as_of=AS_OF)
    assert Letter.objects.count() == 1


def test_the_database_holds_a_case_to_one_letter_on_its_way(letter):
    second = Letter.objects.get(pk=letter.pk)
    second.pk, second.number = None, "LF-2026-999999"
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_letter_whose_debt_was_cleared_without_a_payment_is_cancelled_at_dispatch(letter, legal):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    # A correction in the ledger (the bill reversed), not a payment: nothing is overdue any more.
    Bill.objects.filter(credit_line=letter.case.credit_line).update(principal_due_fen=0)
    sent = letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS1")
    assert (sent.status, sent.cancellation_reason) == (
        LetterStatus.CANCELLED,
        f"Nothing is overdue on case {letter.case.number} any more.",
    )
    assert sent.limitation_interrupted_on is None
