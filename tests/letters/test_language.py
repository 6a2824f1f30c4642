"""Letters go out in the customer's language: the version in use of the template's code in that language, else
the one asked for; one version in use per code and language, activated by someone other than its author."""

import datetime
import io
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from pypdf import PdfReader

from accounts.choices import Language
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_approve
from backoffice.kernel.roles import LEGAL
from cases.models import Case
from letters.approvals import template_activation_propose
from letters.choices import LetterLanguage
from letters.dispatch import letter_dispatch
from letters.models import Letter, LetterTemplate
from letters.services import letter_approve, template_activate, template_save
from tests.factories import law_firm_with_lawyer, overdue_line, user_in

pytestmark = pytest.mark.django_db

AFTERNOON = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def text_of(letter):
    with letter.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def prefer_english(case):
    customer = case.credit_line.customer
    customer.preferred_language = Language.ENGLISH
    customer.save()


def test_an_english_preferring_customers_letter_is_written_and_emailed_in_english(
    legal_case, lawyer_template, agent, legal, draft_rendered, smtp_server, django_capture_on_commit_callbacks
):
    prefer_english(legal_case)
    assert lawyer_template.language == LetterLanguage.CHINESE  # the policy's template, as a person picks it
    letter = draft_rendered(case=legal_case, template=lawyer_template, actor=agent)
    assert (letter.language, letter.template.code, letter.template.language) == ("en", "lawyer-letter", "en")
    text = text_of(letter)
    assert "Lawyer's Letter" in text
    assert letter.number in text
    assert "律师函" not in text
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    with time_machine.travel(AFTERNOON), django_capture_on_commit_callbacks(execute=True):
        letter_dispatch(letter=letter, actor=legal, channel="email", address="nana@example.com")
    (message,) = smtp_server.received
    assert message["Subject"] == f"Lawyer's letter {letter.number}"
    assert "Please find attached letter" in message.get_body(("plain",)).get_content()


def test_the_night_drafts_each_customers_letter_in_their_language(legal, run_dunning):
    law_firm_with_lawyer(legal)
    chinese, english = (overdue_line(due=datetime.date(2026, 1, 10)) for _ in range(2))
    english.customer.preferred_language = Language.ENGLISH
    english.customer.save()
    run_dunning(datetime.date(2026, 3, 20))
    languages = dict(Letter.objects.values_list("case__credit_line", "language"))
    assert languages == {chinese.pk: "zh-hans", english.pk: "en"}
    assert set(Letter.objects.values_list("template__code", flat=True)) == {"lawyer-letter"}


def test_a_customer_whose_language_has_no_version_in_use_gets_the_template_asked_for(
    legal_case, lawyer_template, agent, draft_rendered
):
    prefer_english(legal_case)
    LetterTemplate.objects.filter(code="lawyer-letter", language="en").update(is_active=False)
    letter = draft_rendered(case=legal_case, template=lawyer_template, actor=agent)
    assert (letter.language, letter.template) == ("zh-hans", lawyer_template)


def test_each_language_of_a_code_has_its_own_versions_and_one_in_use(letter, legal):
    english = LetterTemplate.objects.get(code="lawyer-letter", language="en", is_active=True)
    Letter.objects.filter(pk=letter.pk).update(template=english)  # a letter used it: edits make a new version
    english.body_html = english.body_html.replace("Lawyer's Letter", "Lawyer's letter")
    second = template_save(template=english, actor=legal)
    assert (second.language, second.version) == ("en", 2)
    change_approve(proposal=template_activation_propose(template=second, actor=legal), actor=user_in(LEGAL))
    active = dict(
        LetterTemplate.objects.filter(code="lawyer-letter", is_active=True).values_list("language", "version")
    )
    assert active == {"zh-hans": 1, "en": 2}


def test_the_author_of_a_template_version_cannot_activate_it_and_another_reviewer_can(letter, legal):
    template = letter.template
    template.body_html = template.body_html.replace("特此函告。", "特此函告！")
    new_version = template_save(template=template, actor=legal)  # a used version: saved as version 2, legal's
    with pytest.raises(PermissionDenied, match="someone else must activate it"):
        template_activate(template=new_version, actor=legal)
    assert not LetterTemplate.objects.get(pk=new_version.pk).is_active
    reviewer = user_in(LEGAL)
    with pytest.raises(PermissionDenied, match="only by an approved change"):
        template_activate(template=new_version, actor=reviewer)  # directly, without the approval
    assert not LetterTemplate.objects.get(pk=new_version.pk).is_active
    change_approve(proposal=template_activation_propose(template=new_version, actor=legal), actor=reviewer)
    assert LetterTemplate.objects.get(pk=new_version.pk).is_active


def test_the_admin_action_proposes_activating_a_version_for_a_second_reviewer(client, letter, legal):
    template = letter.template
    template.body_html = template.body_html.replace("特此函告。", "特此函告！")
    new_version = template_save(template=template, actor=legal)
    client.force_login(legal)
    url = reverse("admin:letters_lettertemplate_changelist")
    response = client.post(url, {"action": "activate", "_selected_action": [new_version.pk]}, follow=True)
    assert response.status_code == 200
    assert ChangeProposal.objects.get().target_id == new_version.pk
    assert not LetterTemplate.objects.get(pk=new_version.pk).is_active


def test_a_case_request_names_the_template_but_the_customer_reads_their_language(
    client, legal_case, lawyer_template, agent, django_capture_on_commit_callbacks
):
    prefer_english(legal_case)
    Case.objects.filter(pk=legal_case.pk).update(assignee=agent)
    client.force_login(agent)
    url = reverse("admin:cases_case_request_letter", args=[legal_case.pk])
    client.post(url, {"template": lawyer_template.pk})
    assert legal_case.letters.get().language == "en"
