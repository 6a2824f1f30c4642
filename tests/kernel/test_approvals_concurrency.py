"""Two checkers at once, on a real PostgreSQL: a change is applied once, and a stale one never."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.approvals.services import change_approve
from backoffice.kernel.roles import SUPERVISOR
from backoffice.night import dunning_run
from cases.casework.approvals import case_close_propose
from cases.casework.services import case_escalate
from cases.choices import Stage
from cases.models import Case, CaseTransition
from tests.cases.casework.test_concurrency import race
from tests.factories import overdue_line, user_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def open_case(shipped_data):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    dunning_run(as_of=datetime.date(2026, 1, 20), batch_size=100)
    return Case.objects.with_customer().get(credit_line=line)


def test_two_supervisors_approving_one_closure_at_once_close_the_case_once(on_postgres, open_case, supervisor):
    proposal = case_close_propose(case=open_case, actor=supervisor, reason="客户身故")
    checkers = [user_in(SUPERVISOR, f"checker-{n}") for n in range(2)]

    def approve(checker):
        def worker(barrier):
            barrier.wait()
            return change_approve(proposal=ChangeProposal.objects.get(pk=proposal.pk), actor=checker)

        return worker

    results = race(*(approve(checker) for checker in checkers))
    assert sum(isinstance(r, ChangeProposal) for r in results) == 1, results
    assert sum(isinstance(r, ValidationError) and "already approved" in str(r) for r in results) == 1, results
    assert CaseTransition.objects.filter(case=open_case, to_stage=Stage.CLOSED).count() == 1


def test_a_stage_change_racing_the_approval_leaves_either_the_closure_or_a_stale_refusal(
    on_postgres, open_case, supervisor, agent
):
    proposal = case_close_propose(case=open_case, actor=supervisor, reason="债权已出售")
    checker = user_in(SUPERVISOR, "checker")

    def approve(barrier):
        barrier.wait()
        return change_approve(proposal=ChangeProposal.objects.get(pk=proposal.pk), actor=checker)

    def escalate(barrier):
        case = Case.objects.with_customer().get(pk=open_case.pk)
        barrier.wait()
        return case_escalate(case=case, actor=agent, reason="升级")

    results = race(approve, escalate)
    final = Case.objects.get(pk=open_case.pk)
    proposal.refresh_from_db()
    if proposal.status == ChangeStatus.APPROVED:
        assert final.stage == Stage.CLOSED, results
    else:
        assert proposal.status == ChangeStatus.PENDING
        assert final.stage == Stage.COLLECTION, results
    assert CaseTransition.objects.filter(case=open_case).exclude(to_stage=Stage.REMINDER).count() == 1
