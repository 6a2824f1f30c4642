"""Every writer takes credit lines in id order, and a line before its case, on a real PostgreSQL.

A night batch holds every line of its range, taken in id order, from before its read until it
commits, and writes their cases last. A writer that took two of those lines the other way round,
or a case before its line, could hold what the batch waits for while it waits for the batch: a
deadlock, one of the two rolled back. Each test holds one line (or a case) as a batch would, lets
the writer run until it waits, and checks that the writer holds nothing the batch would come to.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse

from accounts.choices import CreditLineStatus
from accounts.models import CreditLine
from accounts.services import payment_post
from backoffice.kernel.api.scopes import Scope
from backoffice.ledger_import.importing import ledger_file_import
from backoffice.night import dunning_run
from backoffice.sameday import lines_refresh
from cases.casework.services import case_escalate
from cases.choices import ProposalKind, ProposalStatus, Stage
from cases.contacts.services import contact_log
from cases.models import Case, Contact, Promise, Proposal
from cases.promises.services import promise_record
from cases.settlements.services import proposal_approve, proposal_reject, proposal_submit, settlements_complete
from tests.factories import overdue_line
from tests.test_sameday_concurrency import WAIT, in_a_thread, others_wait_on_locks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

DUE = datetime.date(2026, 3, 1)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PAID_AT = datetime.datetime(2026, 3, 20, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def free_without_waiting(rows) -> bool:
    """Return whether the rows can be locked at once (as a night batch takes them), in a savepoint."""
    try:
        with transaction.atomic():
            list(rows.select_for_update(no_key=True, nowait=True))
    except DatabaseError:
        return False
    return True


def writer_waits_holding_nothing_of(held, other, work) -> tuple[bool, dict]:
    """Hold ``held`` (a queryset), run ``work`` in a thread until it waits for it, then try ``other`` at once.

    Return whether ``other`` was free, and what ``work`` returned once let through.
    """
    outcome = {}
    with transaction.atomic():
        list(held.select_for_update(no_key=True))
        thread = in_a_thread(work, outcome, "writer")
        assert others_wait_on_locks(), f"the writer never waited: {outcome}"
        free = free_without_waiting(other)
    thread.join(WAIT)
    return free, outcome


@pytest.fixture
def two_lines(shipped_data):
    """Two overdue lines, the first with the lower id, each with a payment."""
    lines = sorted((overdue_line(due=DUE) for _ in range(2)), key=lambda line: line.pk)
    for line in lines:
        payment_post(
            credit_line=line, external_reference=f"P-{line.pk}", amount="100.00", channel="alipay", received_at=PAID_AT
        )
    return lines


def test_a_request_reversing_payments_on_two_lines_takes_them_in_id_order(on_postgres, two_lines, machine):
    low, high = two_lines
    api = machine(Scope.LEDGER_WRITE)
    body = [
        {"payment": f"P-{line.pk}", "external_reference": f"R-{line.pk}", "reason": "bounced", "reversed_at": when}
        for line, when in [(high, "2026-03-21T09:00:00+08:00"), (low, "2026-03-21T09:01:00+08:00")]
    ]

    def reverse_both():
        response = api.post(reverse("api:payment-reversals"), body, format="json")
        return response.status_code

    free, outcome = writer_waits_holding_nothing_of(
        CreditLine.objects.filter(pk=low.pk), CreditLine.objects.filter(pk=high.pk), reverse_both
    )

    assert free, "the request locked the higher line first"
    assert outcome["writer"] == 201, outcome


def test_a_bills_file_amending_two_lines_takes_them_in_id_order(on_postgres, two_lines):
    low, high = two_lines
    rows = ["credit_line,due_date,principal_due,reason"] + [
        f"{line.number},{DUE.isoformat()},900.00,本金更正" for line in (high, low)
    ]

    def amend_both():
        return ledger_file_import(data="\n".join(rows).encode(), kind="bills", actor=None).counts["updated"]

    free, outcome = writer_waits_holding_nothing_of(
        CreditLine.objects.filter(pk=low.pk), CreditLine.objects.filter(pk=high.pk), amend_both
    )

    assert free, "the import locked the higher line first"
    assert outcome["writer"] == 2, outcome


def test_a_lines_file_updating_two_lines_takes_them_in_id_order(on_postgres, two_lines):
    low, high = two_lines
    rows = ["number,customer_national_id,product,limit,opened_on"] + [
        f"{line.number},{line.customer.national_id},{line.product.code},8000.00,{line.opened_on.isoformat()}"
        for line in (high, low)
    ]

    def update_both():
        return ledger_file_import(data="\n".join(rows).encode(), kind="lines", actor=None).counts["updated"]

    free, outcome = writer_waits_holding_nothing_of(
        CreditLine.objects.filter(pk=low.pk), CreditLine.objects.filter(pk=high.pk), update_both
    )

    assert free, "the import locked the higher line first"
    assert outcome["writer"] == 2, outcome


def test_a_person_escalating_a_case_takes_its_line_before_the_case(on_postgres, shipped_data, agent):
    line = overdue_line(due=DUE)  # the standard policy freezes the line on entering collection
    dunning_run(as_of=DUE + datetime.timedelta(days=10), batch_size=100)
    case = Case.objects.with_customer().get(credit_line=line)

    def escalate():
        return case_escalate(case=case, actor=agent, reason="升级").stage

    free, outcome = writer_waits_holding_nothing_of(
        CreditLine.objects.filter(pk=line.pk), Case.objects.filter(pk=case.pk), escalate
    )

    assert free, "the escalation held the case while it waited for the line"
    assert outcome["writer"] == Stage.COLLECTION, outcome
    assert CreditLine.objects.get(pk=line.pk).status == CreditLineStatus.FROZEN


@pytest.fixture
def write_off(shipped_data, agent):
    """A write-off proposed on an open case."""
    line = overdue_line(due=DUE)
    dunning_run(as_of=DUE + datetime.timedelta(days=10), batch_size=100)
    case = Case.objects.with_customer().get(credit_line=line)
    return proposal_submit(case=case, actor=agent, kind=ProposalKind.WRITE_OFF, reason="无力偿还")


@pytest.mark.parametrize(
    ("decide", "status"),
    [(proposal_approve, ProposalStatus.COMPLETED), (proposal_reject, ProposalStatus.REJECTED)],
    ids=["approving", "rejecting"],
)
def test_a_supervisor_deciding_a_proposal_takes_its_line_before_the_case(
    on_postgres, write_off, supervisor, decide, status
):
    case = write_off.case

    def decide_it():
        return decide(proposal=write_off, actor=supervisor, note="核实").status

    free, outcome = writer_waits_holding_nothing_of(
        CreditLine.objects.filter(pk=case.credit_line_id), Case.objects.filter(pk=case.pk), decide_it
    )

    assert free, "the decision held the case while it waited for the line"
    assert outcome["writer"] == status, outcome


def test_a_write_off_approved_while_a_batch_resolves_its_case_is_refused_not_deadlocked(
    on_postgres, write_off, supervisor
):
    case = write_off.case
    payment_post(
        credit_line=case.credit_line,
        external_reference="P-FULL",
        amount="1000.00",
        channel="alipay",
        received_at=PAID_AT,
    )
    outcome = {}
    with transaction.atomic():
        # The line held as the night batch holds it, then the batch resolves the case and cancels its proposal.
        list(CreditLine.objects.filter(pk=case.credit_line_id).select_for_update(no_key=True))
        thread = in_a_thread(lambda: proposal_approve(proposal=write_off, actor=supervisor), outcome, "approval")
        assert others_wait_on_locks(), f"the approval never waited: {outcome}"
        dunning_run(as_of=DUE + datetime.timedelta(days=20), batch_size=100)
    thread.join(WAIT)

    assert isinstance(outcome["approval"], ValidationError), outcome
    assert "meanwhile, which cancelled this proposal" in str(outcome["approval"]), outcome
    assert Case.objects.get(pk=case.pk).stage == Stage.RESOLVED
    assert Proposal.objects.get(pk=write_off.pk).status == ProposalStatus.CANCELLED
    assert CreditLine.objects.get(pk=case.credit_line_id).status != CreditLineStatus.CHARGED_OFF


def test_a_settlement_whose_case_is_resolved_while_the_completion_waits_is_cancelled_not_a_conflict(
    on_postgres, shipped_data, agent, supervisor
):
    line = overdue_line(due=DUE)
    dunning_run(as_of=DUE + datetime.timedelta(days=10), batch_size=100)
    case = Case.objects.with_customer().get(credit_line=line)
    settlement = proposal_submit(
        case=case, actor=agent, kind=ProposalKind.SETTLEMENT, amount="500.00", reason="一次性结清"
    )
    proposal_approve(proposal=settlement, actor=supervisor)
    payment_post(credit_line=line, external_reference="P-FULL", amount="1000.00", channel="alipay", received_at=PAID_AT)
    outcome = {}
    with transaction.atomic():
        # The line held as a payment's refresh holds it; the completion has read its list and waits.
        list(CreditLine.objects.filter(pk=line.pk).select_for_update())
        thread = in_a_thread(settlements_complete, outcome, "completion")
        assert others_wait_on_locks(), f"the completion never waited: {outcome}"
        lines_refresh(line_ids=[line.pk], as_of=DUE + datetime.timedelta(days=20))
    thread.join(WAIT)

    assert outcome["completion"] == 0, outcome
    assert Case.objects.get(pk=case.pk).stage == Stage.RESOLVED
    assert Proposal.objects.get(pk=settlement.pk).status == ProposalStatus.CANCELLED


def writer_waits_for_a_payment_holding_nothing_of(line, case, work) -> tuple[bool, dict]:
    """Hold ``line`` ``FOR UPDATE`` as a payment does, run ``work`` until it waits, then try ``case`` at once."""
    outcome = {}
    with transaction.atomic():
        list(CreditLine.objects.filter(pk=line.pk).select_for_update())
        thread = in_a_thread(work, outcome, "writer")
        assert others_wait_on_locks(), f"the writer never waited: {outcome}"
        free = free_without_waiting(Case.objects.filter(pk=case.pk))
    thread.join(WAIT)
    return free, outcome


@pytest.fixture
def case_in_the_day(shipped_data):
    """An open case, at 10:00 on a working morning for its customer (inside every contact window)."""
    line = overdue_line(due=DUE)
    dunning_run(as_of=DUE + datetime.timedelta(days=10), batch_size=100)
    with time_machine.travel(datetime.datetime(2026, 3, 11, 10, tzinfo=SHANGHAI), tick=True):
        yield Case.objects.with_customer().get(credit_line=line)


def test_an_agent_logging_a_contact_takes_its_line_before_the_case(on_postgres, case_in_the_day, agent):
    case = case_in_the_day

    def log():
        return contact_log(case=case, actor=agent, channel="call", outcome="promise", identity_disclosed=True)

    free, outcome = writer_waits_for_a_payment_holding_nothing_of(case.credit_line, case, log)

    assert free, "the contact held the case while it waited for the line (a payment would deadlock with it)"
    assert isinstance(outcome["writer"], Contact), outcome


def test_an_agent_recording_a_promise_takes_its_line_before_the_case(on_postgres, case_in_the_day, agent):
    case = case_in_the_day

    def promise():
        return promise_record(case=case, actor=agent, amount="300.00", due_date=datetime.date(2026, 3, 16))

    free, outcome = writer_waits_for_a_payment_holding_nothing_of(case.credit_line, case, promise)

    assert free, "the promise held the case while it waited for the line (a payment would deadlock with it)"
    assert isinstance(outcome["writer"], Promise), outcome
