"""Activating a letter template version waits for a legal reviewer other than its author and its proposer."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.roles import LEGAL
from cases.contacts.services import phrase_list_add
from letters.approvals import template_activation_propose
from letters.models import LetterTemplate
from letters.services import template_save
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def second(db):
    return user_in(LEGAL, "legal-second")


@pytest.fixture
def new_version(lawyer_template, legal):
    """Version 2 of the lawyer letter, written by ``legal``: editing the version in use saves the next one."""
    lawyer_template.body_html = lawyer_template.body_html.replace("特此函告。", "特此函告！")
    return template_save(template=lawyer_template, actor=legal)


def in_use(template: LetterTemplate) -> int:
    return LetterTemplate.objects.get(code=template.code, language=template.language, is_active=True).version


def test_editing_the_version_in_use_saves_an_inactive_next_version_even_if_no_letter_used_it(new_version, legal):
    assert (new_version.version, new_version.is_active, new_version.created_by) == (2, False, legal)
    assert in_use(new_version) == 1


def test_the_author_proposes_and_nothing_changes_until_a_second_reviewer_approves(new_version, legal, second):
    proposal = template_activation_propose(template=new_version, actor=legal)
    assert in_use(new_version) == 1
    refused_to(proposal, legal, superuser())
    approved = approved_by(proposal, second)
    assert in_use(new_version) == 2
    assert (approved.maker, approved.checker) == (legal, second)
    assert approved.diff["version"] == [1, 2]
    assert "特此函告。" in approved.diff["body_html"][0]
    assert "特此函告！" in approved.diff["body_html"][1]


def test_the_versions_author_may_not_approve_someone_elses_proposal_to_activate_it(new_version, legal, second):
    proposal = template_activation_propose(template=new_version, actor=second)
    refused_to(proposal, legal, second)
    approved_by(proposal, user_in(LEGAL))
    assert in_use(new_version) == 2


def test_a_supervisor_may_not_approve_a_letter_template(new_version, legal, supervisor):
    proposal = template_activation_propose(template=new_version, actor=legal)
    refused_to(proposal, supervisor)


def test_a_version_edited_after_the_proposal_is_refused_as_stale(new_version, legal, second):
    proposal = template_activation_propose(template=new_version, actor=legal)
    new_version.body_html = new_version.body_html.replace("特此函告！", "特此函告！！")
    template_save(template=new_version, actor=legal)  # inactive and unused: edited in place
    stale_refused(proposal, second)
    assert in_use(new_version) == 1


def test_the_version_in_use_changing_since_makes_the_proposal_stale(new_version, legal, second):
    proposal = template_activation_propose(template=new_version, actor=legal)
    LetterTemplate.objects.filter(code=new_version.code, language="zh-hans", version=1).update(is_active=False)
    stale_refused(proposal, second)


def test_a_version_with_a_prohibited_phrase_is_refused_by_the_activation_checks_on_approval(
    lawyer_template, legal, second
):
    lawyer_template.body_html = lawyer_template.body_html.replace("特此函告。", "警方将依法拘留。特此函告。")
    threatening = template_save(template=lawyer_template, actor=legal)
    proposal = template_activation_propose(template=threatening, actor=legal)
    phrase_list_add(language="zh-hans", phrases="拘留", actor=None)
    with pytest.raises(ValidationError):
        approved_by(proposal, second)
    proposal.refresh_from_db()
    assert proposal.status == ChangeStatus.PENDING
    assert in_use(threatening) == 1


def test_the_admin_action_proposes_activation_and_says_it_waits(client, new_version, legal):
    client.force_login(legal)
    url = reverse("admin:letters_lettertemplate_changelist")
    response = client.post(url, {"action": "activate", "_selected_action": [new_version.pk]}, follow=True)
    assert response.status_code == 200
    proposal = ChangeProposal.objects.get()
    assert (proposal.kind, proposal.target_id, proposal.maker) == ("letter_template_activate", new_version.pk, legal)
    assert in_use(new_version) == 1
