"""An agency's status, contract and commission, and who works for it, change once a second supervisor approves."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice.kernel.approvals.edits import edit_propose
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.roles import AGENCY, SUPERVISOR
from cases.agencies.approvals import AGENCY_CHANGE, agency_members_propose
from cases.choices import AgencyStatus
from cases.models import Agency, AgencyMember
from tests.approvals import approved_by, refused_to, stale_refused, superuser
from tests.factories import user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(db):
    today = timezone.localdate()
    return Agency.objects.create(
        name="深圳示例催收服务有限公司",
        status=AgencyStatus.PENDING,
        contract_start=today - datetime.timedelta(days=30),
        contract_end=today + datetime.timedelta(days=30),
        commission_rate="12.50",
    )


@pytest.fixture
def second(db):
    return user_in(SUPERVISOR, "supervisor-second")


def approving(agency: Agency) -> Agency:
    agency.status = AgencyStatus.APPROVED
    agency.commission_rate = "15.00"
    return agency


def test_approving_an_agency_and_raising_its_commission_waits_for_a_second_supervisor(agency, supervisor, second):
    proposal = edit_propose(
        kind=AGENCY_CHANGE, obj=approving(agency), names=["status", "commission_rate"], actor=supervisor
    )
    stored = Agency.objects.get(pk=agency.pk)
    assert (stored.status, str(stored.commission_rate)) == (AgencyStatus.PENDING, "12.50")
    refused_to(proposal, supervisor, superuser(), user_in(AGENCY))
    approved = approved_by(proposal, second)
    stored.refresh_from_db()
    assert (stored.status, str(stored.commission_rate)) == (AgencyStatus.APPROVED, "15.00")
    assert approved.diff == {"status": ["pending", "approved"], "commission_rate": ["12.50", "15.00"]}
    assert stored.history.latest().history_change_reason.startswith(f"Change #{proposal.pk}")


def test_an_agency_edited_since_the_proposal_is_refused_as_stale(agency, supervisor, second):
    proposal = edit_propose(kind=AGENCY_CHANGE, obj=approving(agency), names=["status"], actor=supervisor)
    Agency.objects.filter(pk=agency.pk).update(contract_end=timezone.localdate() + datetime.timedelta(days=5))
    stale_refused(proposal, second)
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.PENDING


def test_adding_a_login_to_an_agency_waits_for_a_second_supervisor(agency, supervisor, second):
    collector = user_in(AGENCY, "collector-1")
    proposal = agency_members_propose(agency=agency, user_ids=[collector.pk], actor=supervisor)
    assert not AgencyMember.objects.filter(agency=agency).exists()
    refused_to(proposal, supervisor, superuser())
    approved = approved_by(proposal, second)
    assert list(AgencyMember.objects.filter(agency=agency).values_list("user_id", flat=True)) == [collector.pk]
    assert approved.diff == {"members": [[], [collector.pk]]}


def test_a_membership_changed_since_the_proposal_is_refused_as_stale(agency, supervisor, second):
    first, other = user_in(AGENCY, "collector-1"), user_in(AGENCY, "collector-2")
    proposal = agency_members_propose(agency=agency, user_ids=[first.pk], actor=supervisor)
    AgencyMember.objects.create(agency=agency, user=other)
    stale_refused(proposal, second)


def test_the_agency_page_proposes_the_edit_instead_of_saving_it(client, agency, supervisor, second):
    client.force_login(supervisor)
    url = reverse("admin:cases_agency_change", args=[agency.pk])
    data = {
        "name": agency.name,
        "status": AgencyStatus.APPROVED,
        "contract_start": agency.contract_start.isoformat(),
        "contract_end": agency.contract_end.isoformat(),
        "commission_rate": "12.50",
        "contact_email": "",
        "contact_phone": "",
        "members-TOTAL_FORMS": 1,
        "members-INITIAL_FORMS": 0,
        "members-0-user": user_in(AGENCY, "collector-9").pk,
        "members-0-id": "",
        "members-0-agency": agency.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    kinds = set(ChangeProposal.objects.values_list("kind", flat=True))
    assert kinds == {"agency_change", "agency_members_change"}
    assert Agency.objects.get(pk=agency.pk).status == AgencyStatus.PENDING
    assert not AgencyMember.objects.filter(agency=agency).exists()


def test_a_new_agency_starts_pending_whatever_the_form_says(client, supervisor):
    client.force_login(supervisor)
    today = timezone.localdate()
    data = {
        "name": "新机构",
        "status": AgencyStatus.APPROVED,
        "contract_start": today.isoformat(),
        "contract_end": (today + datetime.timedelta(days=90)).isoformat(),
        "commission_rate": "10.00",
        "members-TOTAL_FORMS": 0,
        "members-INITIAL_FORMS": 0,
    }
    assert client.post(reverse("admin:cases_agency_add"), data).status_code == 302
    assert Agency.objects.get(name="新机构").status == AgencyStatus.PENDING
