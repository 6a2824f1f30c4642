import io

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from cases.models import Case, ProhibitedPhraseList
from cases.workload.services import case_assign
from letters.dispatch import letter_dispatch
from letters.models import LetterTemplate
from letters.services import letter_approve, letter_draft, template_activate, template_problems, template_save

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def test_the_verification_page_shows_issuer_and_validity_but_no_personal_data(client, letter, legal, firm):
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS9")
    page = client.get(reverse("letters:verify", args=[letter.number, letter.verification_code]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-state="valid"' in body
    assert firm.name in body
    assert letter.number in body
    customer = letter.case.credit_line.customer
    for private in (
        customer.name,
        customer.address,
        customer.mobile,
        customer.national_id,
        letter.snapshot["amounts"]["total"],
    ):
        assert private not in body


def test_a_wrong_number_and_a_wrong_code_say_not_found_the_same_way(client, letter):
    wrong_code = client.get(reverse("letters:verify", args=[letter.number, "NOPE1234"]))
    wrong_number = client.get(reverse("letters:verify", args=["LF-2026-999999", letter.verification_code]))
    assert wrong_code.status_code == wrong_number.status_code == 404
    assert wrong_code.content == wrong_number.content


def test_a_letter_not_yet_sent_is_not_shown_as_valid(client, letter):
    body = client.get(reverse("letters:verify", args=[letter.number, letter.verification_code])).content.decode()
    assert 'data-state="not_issued"' in body


def test_the_verification_page_is_rate_limited(client, letter, settings):
    url = reverse("letters:verify", args=[letter.number, "GUESS000"])
    statuses = [client.get(url).status_code for _ in range(25)]
    limit = settings.VERIFY_NUMBER_FAILURES
    assert statuses == [404] * limit + [429] * (25 - limit)


def test_a_template_missing_a_required_element_cannot_be_activated(lawyer_template):
    broken = LetterTemplate.objects.create(
        code="broken",
        name="Broken",
        kind=lawyer_template.kind,
        language="zh-hans",
        firm=lawyer_template.firm,
        body_html=lawyer_template.body_html.replace("{{ lawyer.licence_number }}", ""),
    )
    with pytest.raises(ValidationError) as caught:
        template_activate(template=broken, actor=None)
    assert "lawyer.licence_number" in " ".join(caught.value.messages)


def test_a_template_with_a_prohibited_phrase_cannot_be_activated(lawyer_template):
    ProhibitedPhraseList.objects.create(language="zh-hans", version=2, phrases="传票\n冻结全部财产")
    threatening = LetterTemplate.objects.create(
        code="threat",
        name="Threat",
        kind=lawyer_template.kind,
        language="zh-hans",
        firm=lawyer_template.firm,
        body_html=lawyer_template.body_html.replace("特此函告。", "否则将冻结全部财产。特此函告。"),
    )
    problems = template_problems(threatening)
    assert any("冻结全部财产" in str(problem) for problem in problems)
    with pytest.raises(ValidationError):
        template_activate(template=threatening, actor=None)


def test_editing_a_used_template_version_saves_a_new_version(letter, legal):
    template = letter.template
    template.body_html = template.body_html.replace("特此函告。", "特此函告！")
    saved = template_save(template=template, actor=legal)
    assert saved.version == 2
    assert saved.is_active is False
    original = LetterTemplate.objects.get(code=saved.code, language=saved.language, version=1)
    assert "特此函告。" in original.body_html
    assert original.is_active


def test_agents_request_letters_from_the_case_page(client, legal_case, lawyer_template, agent):

    Case.objects.filter(pk=legal_case.pk).update(assignee=agent)
    client.force_login(agent)
    url = reverse("admin:cases_case_request_letter", args=[legal_case.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"template": lawyer_template.pk})
    assert response.status_code == 302
    assert legal_case.letters.get().requested_by == agent


def test_a_phrase_prohibited_after_activation_stops_the_letter_at_rendering(legal_case, lawyer_template, agent):

    ProhibitedPhraseList.objects.create(language="zh-hans", version=2, phrases="特此函告")
    with pytest.raises(ValidationError) as caught:
        letter_draft(case=legal_case, template=lawyer_template, actor=agent)
    assert caught.value.error_list[0].code == "PROHIBITED_CONTENT"
    assert "特此函告" in caught.value.messages[0]
    assert not legal_case.letters.exists()


def test_editing_the_version_in_use_through_the_admin_saves_the_next_version_and_changes_nothing_sent(
    client, lawyer_template, legal
):
    client.force_login(legal)
    url = reverse("admin:letters_lettertemplate_change", args=[lawyer_template.pk])
    data = {
        "code": lawyer_template.code,
        "name": lawyer_template.name,
        "kind": lawyer_template.kind,
        "language": lawyer_template.language,
        "firm": lawyer_template.firm_id,
        "body_html": lawyer_template.body_html.replace("特此函告。", "传票已发出。特此函告。"),
        "print_css": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    lawyer_template.refresh_from_db()
    assert lawyer_template.is_active
    assert "传票" not in lawyer_template.body_html
    saved = LetterTemplate.objects.get(code=lawyer_template.code, language="zh-hans", version=2)
    assert (saved.is_active, saved.created_by) == (False, legal)
    assert "传票" in saved.body_html


def _preview_text(client, template) -> str:
    response = client.get(reverse("admin:letters_lettertemplate_preview", args=[template.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_template_preview_prints_a_real_case_only_to_those_who_may_see_it(
    client, legal_case, lawyer_template, agent, legal, supervisor
):
    client.force_login(legal)
    assert "欧阳娜娜" in _preview_text(client, lawyer_template)
    client.force_login(agent)  # the case is not the agent's: sample data instead
    shown = _preview_text(client, lawyer_template)
    assert "欧阳娜娜" not in shown
    assert "样例收件人" in shown
    case_assign(case=legal_case, actor=supervisor, assignee=agent)
    assert "欧阳娜娜" in _preview_text(client, lawyer_template)
