import datetime
import zoneinfo

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Bill, Customer, Payment
from accounts.validators import validate_mobile, validate_national_id
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import may_approve
from backoffice.reports.compliance_models import ComplianceDay
from backoffice.reports.models import FlowCell, LineDay, MonthEndPosition, PeopleDay, VintageCell
from backoffice.reports.models_recovery import LetterDay, RecoveryDay, StageEntry
from cases.choices import LADDER, ProposalKind
from cases.models import Case, DunningRun, Message, Proposal
from cases.settlements.services import proposal_approve
from letters.choices import LetterStatus
from letters.models import Letter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug_on(settings):
    """The demo is seeded only with DEBUG on (``make run`` turns it on)."""
    settings.DEBUG = True


def test_the_demo_has_a_login_per_role_and_cases_in_every_stage_after_the_run():
    call_command("seed_demo", "--customers", "120", "--seed", "7")
    call_command("run_dunning")
    for username in ("agent1", "agent2", "legal1", "supervisor1", "agency1", "admin"):
        # Signing in counts failures per address (django-axes): it takes the login's request.
        login = RequestFactory().post("/admin/login/")
        assert authenticate(login, username=username, password="collect-demo") is not None, username
    stages = set(Case.objects.values_list("stage", flat=True))
    assert set(LADDER) <= stages
    assert {"resolved", "on_hold"} <= stages
    for customer in Customer.objects.all():
        validate_national_id(customer.national_id)
        validate_mobile(customer.mobile)
    assert Bill.objects.count() == 120 * 6
    for payment in Payment.objects.prefetch_related("allocations")[:200]:
        assert sum(a.total_fen for a in payment.allocations.all()) + payment.unallocated_fen == payment.amount_fen


def test_seeding_again_keeps_the_data_and_reset_rebuilds_it(capsys):
    call_command("seed_demo", "--customers", "20")
    call_command("seed_demo", "--customers", "20")
    assert "already present" in capsys.readouterr().out
    assert Customer.objects.count() == 20
    call_command("seed_demo", "--customers", "15", "--reset", "--no-input")
    assert Customer.objects.count() == 15


def test_the_demo_has_an_agency_with_placed_cases_and_proposals_for_supervisor1():

    call_command("seed_demo", "--customers", "300", "--seed", "7")
    agency_user = User.objects.get(username="agency1")
    placed = Case.objects.visible_to(agency_user)
    assert placed.count() == 5
    assert all(case.agency.name == "华信商务咨询有限公司" for case in placed)
    write_off = Proposal.objects.get(kind=ProposalKind.WRITE_OFF)
    proposal_approve(proposal=write_off, actor=User.objects.get(username="supervisor1"))
    write_off.case.refresh_from_db()
    assert write_off.case.stage == "written_off"
    assert Case.objects.for_agent(User.objects.get(username="agent1")).filter(follow_up_on__isnull=False).exists()


def test_the_demos_nights_draft_the_lawyer_letter_of_every_case_in_legal_recovery():
    call_command("seed_demo", "--customers", "120", "--seed", "7")
    legal = Case.objects.filter(stage="legal")
    assert legal.exists()
    drafted = set(Letter.objects.values_list("case_id", flat=True))
    assert set(legal.values_list("id", flat=True)) <= drafted
    # The older letters went through review and dispatch; the recent ones wait as drafts.
    assert {requested_by for _status, requested_by in Letter.objects.values_list("status", "requested_by")} == {None}
    statuses = set(Letter.objects.values_list("status", flat=True))
    assert LetterStatus.DRAFT in statuses
    assert statuses <= {LetterStatus.DRAFT, LetterStatus.SENT, LetterStatus.REJECTED, LetterStatus.CANCELLED}
    assert sum(DunningRun.objects.values_list("letters_drafted", flat=True)) == len(drafted)


def test_the_demo_shows_weeks_of_reminders_sent_delivered_failed_and_stopped_by_a_rule():
    call_command("seed_demo", "--customers", "120", "--seed", "7")
    today = timezone.localdate()
    assert DunningRun.objects.count() == 21
    history = Message.objects.filter(planned_for__lt=today)
    statuses = set(history.values_list("status", flat=True))
    assert {"sent", "delivered", "failed", "stopped"} <= statuses
    assert "planned" not in statuses
    assert {"DO_NOT_CONTACT", "CONSENT_WITHDRAWN"} <= set(history.values_list("stop_rule", flat=True))
    for message in history.exclude(sent_at=None):
        local = timezone.localtime(message.sent_at, zoneinfo.ZoneInfo(message.customer.time_zone))
        assert local.date() == message.planned_for
        assert datetime.time(8) <= local.time() < datetime.time(22)
    assert Customer.objects.filter(preferred_language="en").exists()
    assert Customer.objects.exclude(email="").exists()


def test_a_reset_deletes_the_demos_messages_with_their_cases():
    call_command("seed_demo", "--customers", "40", "--seed", "7")
    assert Message.objects.exists()
    call_command("seed_demo", "--customers", "30", "--reset", "--no-input")
    assert Customer.objects.count() == 30


def test_the_demos_english_reading_customers_get_their_lawyer_letters_in_english():
    call_command("seed_demo", "--customers", "300", "--seed", "7")  # the default size
    languages = set(Letter.objects.values_list("case__credit_line__customer__preferred_language", "language"))
    assert languages == {("zh-hans", "zh-hans"), ("en", "en")}


def test_the_demo_writes_six_month_ends_before_its_nights_so_the_flow_and_vintage_reports_have_a_past():
    call_command("seed_demo", "--customers", "120", "--seed", "7")
    month_ends = sorted(set(MonthEndPosition.objects.values_list("month_end", flat=True)))
    assert len(month_ends) >= 6
    assert FlowCell.objects.filter(month_end=month_ends[-1]).exists()
    assert set(FlowCell.objects.values_list("from_bucket", flat=True)) >= {"M0", "M1"}
    assert VintageCell.objects.exists()
    assert LineDay.objects.values("as_of").distinct().count() == 21


def test_the_demos_days_leave_a_compliance_record_that_the_next_night_counts():
    call_command("seed_demo", "--customers", "120", "--seed", "7")
    counted = set(ComplianceDay.objects.values_list("kind", flat=True))
    assert counted >= {"incident", "refused", "reveal", "stopped"}
    # The last day's record waits for tonight's run; every day before it is counted.
    assert ComplianceDay.objects.filter(kind="reveal").values("as_of").distinct().count() == 20


def test_the_demo_fills_the_recovery_and_letters_reports_as_its_nights_would_have(client):
    call_command("seed_demo", "--customers", "120", "--seed", "7")
    today = timezone.localdate()
    assert StageEntry.objects.filter(stage="reminder").exists()
    assert RecoveryDay.objects.filter(collected_fen__gt=0).exists()
    assert RecoveryDay.objects.values("day").distinct().count() >= 15
    steps = set(LetterDay.objects.values_list("step", flat=True))
    assert steps >= {"drafted", "approved", "sent", "rejected"}
    assert not LetterDay.objects.filter(day__gte=today - datetime.timedelta(days=1)).exists()
    sent = Letter.objects.filter(status=LetterStatus.SENT).first()
    assert sent.sent_at.date() < today
    assert sent.pdf_sha256 == sent.approved_sha256
    client.force_login(User.objects.get(username="supervisor1"))
    first = (today - datetime.timedelta(days=25)).isoformat()
    for name in ("recovery", "letters"):
        page = client.get(f"/admin/reports/{name}/", {"from": first, "to": today.isoformat()})
        assert page.status_code == 200


def test_the_demo_fills_the_people_report_and_the_agencys_commission_statement():
    call_command("seed_demo", "--customers", "300", "--seed", "7")
    today = timezone.localdate()
    days = set(PeopleDay.objects.values_list("day", flat=True))
    assert max(days) == today - datetime.timedelta(days=1)
    agents = set(User.objects.filter(username__in=["agent1", "agent2"]).values_list("pk", flat=True))
    in_hand = PeopleDay.objects.filter(day=max(days), agent_id__in=agents)
    assert sum(row.cases_in_hand for row in in_hand) > 0
    assert PeopleDay.objects.filter(contacts__gt=0).exists()
    assert PeopleDay.objects.filter(promises_made__gt=0).exists()
    agency_rows = PeopleDay.objects.filter(agency_id__gt=0)
    assert sum(row.collected_fen for row in agency_rows) > 0
    assert sum(row.reversed_fen for row in agency_rows) < 0


def test_the_demo_leaves_changes_waiting_for_a_second_person_and_the_second_login_may_approve_them():
    call_command("seed_demo", "--customers", "60", "--seed", "7")
    waiting = {proposal.kind: proposal for proposal in ChangeProposal.objects.pending().select_related("maker")}
    assert set(waiting) == {"message_template_activate", "case_close", "rule_pack_change"}
    legal2, supervisor2 = User.objects.get(username="legal2"), User.objects.get(username="supervisor2")
    assert may_approve(legal2, waiting["message_template_activate"])
    assert not may_approve(waiting["message_template_activate"].maker, waiting["message_template_activate"])
    assert may_approve(supervisor2, waiting["case_close"])
    assert not may_approve(User.objects.get(username="admin"), waiting["rule_pack_change"])
    assert User.objects.get(username="manager1").has_perm("cases.decide_large_proposal")
