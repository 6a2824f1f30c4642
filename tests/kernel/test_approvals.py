"""Maker-checker: a change waits as a proposal, another authorised person approves it, both names and the diff kept.

The mechanism is shown on the prohibited-phrase lists (the shortest kind to set up); every other kind
has its own tests next to its app's.
"""

import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.approvals.services import change_reject, change_withdraw, may_approve
from backoffice.kernel.roles import LEGAL
from cases.contacts.approvals import phrase_list_propose
from cases.contacts.services import phrase_list_add
from cases.models import ProhibitedPhraseList
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def maker(db):
    return user_in(LEGAL, "legal-maker")


@pytest.fixture
def checker(db):
    return user_in(LEGAL, "legal-checker")


def in_force() -> list[str]:
    return ProhibitedPhraseList.objects.in_force("zh-hans")


@pytest.fixture
def emptied(maker):
    """The story the review found: one legal reviewer empties the phrase list."""
    return phrase_list_propose(language="zh-hans", phrases="", actor=maker)


def test_emptying_the_phrase_list_changes_nothing_until_a_second_reviewer_approves(emptied, checker):
    shipped = in_force()
    assert "传票" in shipped
    assert in_force() == shipped
    approved_by(emptied, checker)
    assert in_force() == []
    newest = ProhibitedPhraseList.objects.filter(language="zh-hans").order_by("-version").first()
    assert newest.created_by == emptied.maker


def test_the_maker_a_superuser_and_a_supervisor_cannot_approve(emptied, maker, supervisor):
    refused_to(emptied, maker, superuser(), supervisor)
    assert "传票" in in_force()


def test_the_proposal_keeps_the_values_before_and_after_and_both_names(emptied, checker):
    shipped = ProhibitedPhraseList.objects.filter(language="zh-hans").order_by("-version").first()
    assert emptied.before == {"language": "zh-hans", "phrases": shipped.phrases}
    assert emptied.diff == {"phrases": [shipped.phrases, ""]}
    approved = approved_by(emptied, checker)
    assert (approved.maker.username, approved.checker.username) == ("legal-maker", "legal-checker")
    assert approved.diff == {"phrases": [shipped.phrases, ""]}


def test_a_proposal_made_against_a_list_replaced_since_is_refused_as_stale(emptied, checker):
    phrase_list_add(language="zh-hans", phrases="传票\n立案通知\n拘留", actor=None)
    stale_refused(emptied, checker)
    assert "拘留" in in_force()


def test_a_second_proposal_for_the_same_list_waits_until_the_first_is_decided(emptied, checker):
    with pytest.raises(ValidationError, match="already has a change waiting"):
        phrase_list_propose(language="zh-hans", phrases="传票", actor=checker)


def test_a_proposal_that_changes_nothing_is_refused(maker):
    with pytest.raises(ValidationError, match="changes nothing"):
        phrase_list_propose(language="zh-hans", phrases="\n".join(in_force()), actor=maker)


def test_proposing_needs_the_kinds_permission(supervisor):
    with pytest.raises(PermissionDenied):
        phrase_list_propose(language="zh-hans", phrases="", actor=supervisor)


def test_a_rejection_needs_a_reason_is_kept_and_changes_nothing(emptied, maker, checker):
    with pytest.raises(ValidationError):
        change_reject(proposal=emptied, actor=checker, reason=" ")
    with pytest.raises(PermissionDenied):
        change_reject(proposal=emptied, actor=maker, reason="mine")
    change_reject(proposal=emptied, actor=checker, reason="空列表会放行威胁用语")
    emptied.refresh_from_db()
    assert (emptied.status, emptied.checker, emptied.reason) == (ChangeStatus.REJECTED, checker, "空列表会放行威胁用语")
    assert "传票" in in_force()
    with pytest.raises(ValidationError, match="already rejected"):
        approved_by(emptied, user_in(LEGAL))


def test_only_the_maker_withdraws_and_a_withdrawn_change_cannot_be_approved(emptied, maker, checker):
    with pytest.raises(PermissionDenied):
        change_withdraw(proposal=emptied, actor=checker)
    change_withdraw(proposal=emptied, actor=maker)
    emptied.refresh_from_db()
    assert emptied.status == ChangeStatus.WITHDRAWN
    with pytest.raises(ValidationError, match="already withdrawn"):
        approved_by(emptied, checker)


def test_an_inactive_reviewer_cannot_approve(emptied, checker):
    checker.is_active = False
    checker.save()
    assert not may_approve(checker, emptied)


def test_the_database_refuses_a_checker_who_is_the_maker(emptied):
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeProposal.objects.filter(pk=emptied.pk).update(checker=emptied.maker)


def test_approvals_and_rejections_are_security_events_by_ids(caplog, maker, checker):
    caplog.set_level(logging.INFO, logger="backoffice.security")
    first = phrase_list_propose(language="zh-hans", phrases="传票", actor=maker)
    approved_by(first, checker)
    second = phrase_list_propose(language="zh-hans", phrases="", actor=maker)
    change_reject(proposal=second, actor=checker, reason="no")
    events = {record.event: record for record in caplog.records if hasattr(record, "event")}
    assert {"change_proposed", "change_approved", "change_rejected"} <= set(events)
    approved = events["change_approved"]
    assert (approved.proposal_id, approved.maker_id, approved.checker_id) == (first.pk, maker.pk, checker.pk)
    assert all("传票" not in record.getMessage() for record in caplog.records)


def test_the_queue_shows_a_checker_the_kinds_they_approve_and_a_maker_their_own(client, emptied, checker, supervisor):
    url = reverse("admin:backoffice_changeproposal_changelist")
    client.force_login(checker)
    page = client.get(url).content.decode()
    assert "Waiting for a second person" in page or "等待第二人" in page
    assert f"#{emptied.pk}" in page
    client.force_login(supervisor)
    page = client.get(url).content.decode()
    assert f"#{emptied.pk}<" not in page
    assert 'id="change-queue-empty"' in page


def test_the_queue_filters_by_kind_status_and_maker_and_searches(client, emptied, checker, maker):
    client.force_login(checker)
    url = reverse("admin:backoffice_changeproposal_changelist")
    for query in (
        {"kind": "phrase_list_change"},
        {"status": "pending"},
        {"maker__id__exact": maker.pk},
        {"q": "v1"},
    ):
        response = client.get(url, query)
        assert response.status_code == 200, query
        assert f">#{emptied.pk}<" in response.content.decode(), query
    assert f">#{emptied.pk}<" not in client.get(url, {"kind": "letter_template_activate"}).content.decode()


def test_the_change_page_shows_before_and_after_and_approving_goes_through_a_confirmation(client, emptied, checker):
    client.force_login(checker)
    page = client.get(reverse("admin:backoffice_changeproposal_change", args=[emptied.pk])).content.decode()
    assert 'id="change-diff"' in page
    assert "传票" in page
    decide = reverse("admin:backoffice_changeproposal_decide", args=[emptied.pk, "approve"])
    assert decide in page
    confirmation = client.get(decide)
    assert confirmation.status_code == 200
    assert "传票" in in_force()
    response = client.post(decide, {"confirm": "yes"})
    assert response.status_code == 302
    assert in_force() == []


def test_a_stale_change_is_refused_on_the_confirmation_page_with_the_reason(client, emptied, checker):
    phrase_list_add(language="zh-hans", phrases="传票\n拘留", actor=None)
    client.force_login(checker)
    decide = reverse("admin:backoffice_changeproposal_decide", args=[emptied.pk, "approve"])
    page = client.post(decide, {"confirm": "yes"}).content.decode()
    assert "errornote" in page
    emptied.refresh_from_db()
    assert emptied.status == ChangeStatus.PENDING


def test_the_maker_sees_no_approve_button_but_may_withdraw(client, emptied, maker):
    client.force_login(maker)
    page = client.get(reverse("admin:backoffice_changeproposal_change", args=[emptied.pk])).content.decode()
    assert reverse("admin:backoffice_changeproposal_decide", args=[emptied.pk, "approve"]) not in page
    withdraw = reverse("admin:backoffice_changeproposal_decide", args=[emptied.pk, "withdraw"])
    assert withdraw in page
    assert (
        client.get(reverse("admin:backoffice_changeproposal_decide", args=[emptied.pk, "approve"])).status_code == 403
    )
    client.post(withdraw, {"confirm": "yes"})
    emptied.refresh_from_db()
    assert emptied.status == ChangeStatus.WITHDRAWN


def test_a_superuser_sees_every_change_and_is_told_why_they_may_not_approve(client, emptied):
    client.force_login(superuser())
    page = client.get(reverse("admin:backoffice_changeproposal_change", args=[emptied.pk])).content.decode()
    assert "errornote" in page
    decide = reverse("admin:backoffice_changeproposal_decide", args=[emptied.pk, "approve"])
    assert client.post(decide, {"confirm": "yes"}).status_code == 403
    assert "传票" in in_force()


def test_rejecting_from_the_admin_asks_for_a_reason(client, emptied, checker):
    client.force_login(checker)
    decide = reverse("admin:backoffice_changeproposal_decide", args=[emptied.pk, "reject"])
    assert client.post(decide, {"confirm": "yes", "reason": ""}).status_code == 200
    assert client.post(decide, {"confirm": "yes", "reason": "保留清单"}).status_code == 302
    emptied.refresh_from_db()
    assert (emptied.status, emptied.reason) == (ChangeStatus.REJECTED, "保留清单")


def test_the_phrase_list_admin_proposes_a_new_version_instead_of_saving_it(client, maker):
    client.force_login(maker)
    add = reverse("admin:cases_prohibitedphraselist_add")
    response = client.post(add, {"language": "zh-hans", "phrases": "传票"})
    proposal = ChangeProposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:backoffice_changeproposal_change", args=[proposal.pk])
    assert (proposal.kind, proposal.maker, proposal.status) == ("phrase_list_change", maker, ChangeStatus.PENDING)
    assert "传票" in in_force()
    assert "立案通知" in in_force()


def test_the_queue_costs_the_same_queries_for_three_changes_as_for_twelve(client, checker):
    url = reverse("admin:backoffice_changeproposal_changelist")
    client.force_login(checker)

    def queries_with(count: int) -> int:
        ChangeProposal.objects.all().delete()
        for n in range(count):
            ChangeProposal.objects.create(
                kind="phrase_list_change",
                target_label=f"v{n}",
                maker=user_in(LEGAL),
                made_at=timezone.now(),
                fingerprint="x",
                diff={"phrases": ["a", "b"]},
            )
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_with(3) == queries_with(12)
