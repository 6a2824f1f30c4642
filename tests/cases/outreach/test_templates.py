"""Message templates: a version in use is never edited, checks refuse bad wording, and a second person approves
activating a version."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.roles import LEGAL
from cases.contacts.services import phrase_list_add
from cases.models import Message, MessageTemplate
from cases.outreach.approvals import message_template_activation_propose
from cases.outreach.services import message_template_activate, message_template_save
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(db):
    return user_in(LEGAL, "legal-author")


@pytest.fixture
def reviewer(db):
    return user_in(LEGAL, "legal-reviewer")


def shipped(code="overdue", channel="sms", language="zh-hans") -> MessageTemplate:
    return MessageTemplate.objects.get(code=code, channel=channel, language=language, is_active=True)


def edited(template: MessageTemplate, **changes) -> MessageTemplate:
    for field, value in changes.items():
        setattr(template, field, value)
    return template


def draft(author, body="{name}您好，您的合同{contract}已逾期，请通过{pay_to}还款。") -> MessageTemplate:
    return message_template_save(template=edited(shipped(), body=body), actor=author)


def test_editing_the_active_version_saves_the_next_version_and_keeps_the_active_one(author):
    before = shipped()
    new = draft(author)
    before.refresh_from_db()
    assert (new.version, new.is_active, new.created_by) == (2, False, author)
    assert before.is_active
    assert "{days_past_due}" in before.body
    assert MessageTemplate.objects.filter(code="overdue", channel="sms", language="zh-hans").count() == 2


def test_a_version_some_message_used_is_not_edited_even_after_it_was_deactivated(author, reviewer):
    template = draft(author)
    line = overdue_line(due=timezone.localdate())
    Message.objects.create(
        customer=line.customer,
        credit_line=line,
        kind="overdue",
        channel="sms",
        template_code="overdue",
        language="zh-hans",
        template_version=1,
        planned_for=timezone.localdate(),
        due_at=timezone.now(),
        status="sent",
        created_at=timezone.now(),
    )
    MessageTemplate.objects.filter(version=1, code="overdue", channel="sms", language="zh-hans").update(
        is_active=False, activated_at=None
    )
    old = MessageTemplate.objects.get(version=1, code="overdue", channel="sms", language="zh-hans")
    again = message_template_save(template=edited(old, body="{name}您好，请通过{pay_to}还款。"), actor=author)
    assert (again.version, again.is_active) == (template.version + 1, False)
    assert (
        "{days_past_due}"
        in MessageTemplate.objects.get(version=1, code="overdue", channel="sms", language="zh-hans").body
    )


def test_a_draft_nobody_activated_is_edited_in_place(author):
    template = draft(author)
    again = message_template_save(template=edited(template, body="{name}您好，请通过{pay_to}还款。"), actor=author)
    assert (again.pk, again.version) == (template.pk, 2)


def test_someone_other_than_the_author_approves_the_activation_and_the_previous_version_stops(author, reviewer):
    template = draft(author)
    proposal = message_template_activation_propose(template=template, actor=author)
    assert shipped().version == 1
    approved = approved_by(proposal, reviewer)
    active = MessageTemplate.objects.filter(code="overdue", channel="sms", language="zh-hans", is_active=True)
    assert list(active.values_list("version", "activated_by")) == [(2, reviewer.pk)]
    assert (approved.maker, approved.checker, approved.diff["version"]) == (author, reviewer, [1, 2])
    assert approved.diff["body"][1] == template.body


def test_the_author_may_not_activate_their_own_wording(author):
    template = draft(author)
    with pytest.raises(ValidationError, match="someone else must activate it"):
        message_template_activate(template=template, actor=author)
    assert shipped().version == 1


def test_a_version_is_activated_only_through_its_approved_activation_never_by_a_direct_call(author, reviewer):
    template = draft(author)
    with pytest.raises(PermissionDenied, match="only by an approved change"):
        message_template_activate(template=template, actor=reviewer)
    assert not MessageTemplate.objects.get(pk=template.pk).is_active
    # Nor with a proposal still waiting, nor with another version's approved one.
    waiting = message_template_activation_propose(template=template, actor=author)
    with pytest.raises(PermissionDenied, match="only by an approved change"):
        message_template_activate(template=template, actor=reviewer, proposal=waiting)
    approved_by(waiting, reviewer)
    assert MessageTemplate.objects.get(pk=template.pk).is_active


def test_neither_the_maker_nor_the_author_nor_a_superuser_may_approve_an_activation(author, reviewer):
    template = draft(author)
    proposal = message_template_activation_propose(template=template, actor=reviewer)
    refused_to(proposal, reviewer, author, superuser())
    assert shipped().version == 1
    approved_by(proposal, user_in(LEGAL))
    assert shipped().version == 2


def test_wording_edited_after_the_proposal_makes_it_stale(author, reviewer):
    template = draft(author)
    proposal = message_template_activation_propose(template=template, actor=author)
    message_template_save(template=edited(template, body="{name}您好，请通过{pay_to}尽快还款。"), actor=author)
    stale_refused(proposal, reviewer)
    assert shipped().version == 1


def test_a_prohibited_phrase_is_refused_on_its_field(author):
    phrase_list_add(language="zh-hans", phrases="传票\n立案通知", actor=author)
    with pytest.raises(ValidationError) as refused:
        draft(author, body="{name}您好，法院传票即将送达。")
    assert "传票" in str(refused.value.message_dict["body"])
    assert MessageTemplate.objects.filter(code="overdue", channel="sms").count() == 2  # zh and en v1 only


def test_an_unknown_placeholder_is_refused_with_its_name(author):
    with pytest.raises(ValidationError) as refused:
        draft(author, body="{name}您好，您的雇主{employer}将被告知。")
    assert "{employer}" in str(refused.value.message_dict["body"])


def test_an_sms_template_needs_its_providers_code(author):
    with pytest.raises(ValidationError) as refused:
        message_template_save(template=edited(shipped(), provider_template_code=" "), actor=author)
    assert "provider_template_code" in refused.value.message_dict


def test_a_phrase_added_after_saving_stops_the_activation(author, reviewer):
    template = draft(author, body="{name}您好，请通过{pay_to}还款，否则立案。")
    proposal = message_template_activation_propose(template=template, actor=author)
    phrase_list_add(language="zh-hans", phrases="立案", actor=reviewer)
    with pytest.raises(ValidationError, match="立案"):
        approved_by(proposal, reviewer)
    assert shipped().version == 1


def test_the_admin_lists_the_placeholders_and_proposes_activating_after_a_confirmation_page(client, author, reviewer):
    template = draft(author)
    client.force_login(reviewer)
    page = client.get(reverse("admin:cases_messagetemplate_change", args=[template.pk])).content.decode()
    assert "{days_past_due}" in page
    assert 'id="activate-template"' in page
    url = reverse("admin:cases_messagetemplate_activate", args=[template.pk])
    confirmation = client.get(url).content.decode()
    assert "overdue" in confirmation
    assert 'name="confirm"' in confirmation
    response = client.post(url, {"confirm": "yes"})
    proposal = ChangeProposal.objects.get()
    assert response["Location"] == reverse("admin:backoffice_changeproposal_change", args=[proposal.pk])
    template.refresh_from_db()
    assert not template.is_active
    approved_by(proposal, user_in(LEGAL))
    template.refresh_from_db()
    assert template.is_active


def test_the_author_proposes_activating_their_wording_and_the_change_page_offers_them_no_approval(client, author):
    template = draft(author)
    client.force_login(author)
    client.post(reverse("admin:cases_messagetemplate_activate", args=[template.pk]), {"confirm": "yes"})
    proposal = ChangeProposal.objects.get()
    page = client.get(reverse("admin:backoffice_changeproposal_change", args=[proposal.pk])).content.decode()
    assert reverse("admin:backoffice_changeproposal_decide", args=[proposal.pk, "approve"]) not in page
    template.refresh_from_db()
    assert not template.is_active


def test_the_admin_refuses_a_prohibited_phrase_on_the_text_field(client, author):
    phrase_list_add(language="zh-hans", phrases="传票", actor=author)
    template = shipped()
    client.force_login(author)
    response = client.post(
        reverse("admin:cases_messagetemplate_change", args=[template.pk]),
        {
            "code": "overdue",
            "channel": "sms",
            "language": "zh-hans",
            "subject": "",
            "body": "{name}您好，传票已发出。",
            "provider_template_code": "SMS_OVERDUE_ZH",
        },
    )
    assert response.status_code == 200
    assert "传票" in str(response.context["adminform"].form.errors["body"])
    assert MessageTemplate.objects.filter(code="overdue", channel="sms", language="zh-hans").count() == 1


def test_supervisors_read_templates_but_do_not_change_them(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("admin:cases_messagetemplate_changelist")).status_code == 200
    url = reverse("admin:cases_messagetemplate_activate", args=[shipped().pk])
    assert client.get(url).status_code == 403


def test_whoever_last_edits_a_draft_is_its_author_and_may_not_approve_activating_it(author, reviewer):
    template = draft(author)
    rewritten = message_template_save(template=edited(template, body="{name}您好，请还款：{pay_to}"), actor=reviewer)
    assert (rewritten.pk, rewritten.created_by) == (template.pk, reviewer)
    proposal = message_template_activation_propose(template=rewritten, actor=user_in(LEGAL))
    refused_to(proposal, reviewer)
    approved_by(proposal, author)


@pytest.mark.parametrize(
    ("language", "body"),
    [
        ("en", "We will send a COURT SUMMONS, {name}."),
        ("zh-hans", "{name}，法院传 票已发出。"),
        ("zh-hans", "{name}，法院传\u200b票已发出。"),
        ("zh-hans", "{name}，法院传\u3000票已发出。"),
    ],
)
def test_a_prohibited_phrase_is_caught_whatever_its_case_spacing_or_invisible_characters(author, language, body):
    template = edited(shipped(language=language), body=body)
    with pytest.raises(ValidationError, match="Prohibited phrase"):
        message_template_save(template=template, actor=author)


@pytest.mark.parametrize("field", ["{name:d}", "{name!r}", "{name.__class__}", "{name:{creditor}}", "{name[0]}"])
def test_a_placeholder_with_a_format_a_conversion_or_an_attribute_is_refused(author, field):
    with pytest.raises(ValidationError, match="No message can fill"):
        draft(author, body=f"{field}您好，请通过{{pay_to}}还款。")
