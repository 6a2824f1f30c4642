import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.choices import CreditLineStatus
from cases.casework.services import (
    CaseConflict,
    case_close,
    case_escalate,
    case_hold,
    case_resume,
    case_settle,
    case_write_off,
)
from cases.choices import Stage
from cases.dunning.services import case_apply_dunning
from cases.models import Case, CaseTransition
from letters.models import Letter
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 1, 20)


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=DUE)
    run_dunning(TODAY)
    return Case.objects.with_customer().get(credit_line=line)


def history(case):
    return list(case.transitions.order_by("id").values_list("from_stage", "to_stage", "actor__username"))


def test_a_hold_pauses_and_resume_returns_to_the_stage_it_left(case, agent):
    case_hold(
        case=case,
        actor=agent,
        reason_code="promise_to_pay",
        note="周五还款",
        until=TODAY + datetime.timedelta(days=5),
        today=TODAY,
    )
    assert (case.stage, case.held_from_stage) == (Stage.ON_HOLD, Stage.REMINDER)
    case_resume(case=case, actor=agent, reason="客户未按约还款")
    case.refresh_from_db()
    assert (case.stage, case.hold_until, case.held_from_stage) == (Stage.REMINDER, None, "")
    assert history(case) == [(Stage.REMINDER, Stage.ON_HOLD, "agent-t"), (Stage.ON_HOLD, Stage.REMINDER, "agent-t")]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("until", {"until": TODAY}),
        ("until", {"until": TODAY + datetime.timedelta(days=31)}),
        ("note", {"note": "  "}),
        ("reason_code", {"reason_code": "bored"}),
    ],
)
def test_a_bad_hold_is_refused_naming_the_field_and_nothing_changes(case, agent, field, kwargs):
    values = {"reason_code": "dispute", "note": "有争议", "until": TODAY + datetime.timedelta(days=3), **kwargs}
    with pytest.raises(ValidationError) as caught:
        case_hold(case=case, actor=agent, today=TODAY, **values)
    assert field in caught.value.message_dict
    assert Case.objects.get(pk=case.pk).stage == Stage.REMINDER
    assert CaseTransition.objects.filter(case=case).count() == 0


def test_an_agent_escalates_and_the_line_is_frozen_on_entering_collection(case, agent):
    case_escalate(case=case, actor=agent, reason="多次失联")
    case.refresh_from_db()
    case.credit_line.refresh_from_db()
    assert case.stage == Stage.COLLECTION
    assert case.credit_line.status == CreditLineStatus.FROZEN
    assert history(case) == [(Stage.REMINDER, Stage.COLLECTION, "agent-t")]


@pytest.mark.parametrize("service", [case_write_off, case_settle, case_close])
def test_an_agent_cannot_write_off_settle_or_close(case, agent, service):
    with pytest.raises(PermissionDenied):
        service(case=case, actor=agent, reason="试试")
    assert Case.objects.get(pk=case.pk).stage == Stage.REMINDER


def test_a_supervisor_writes_off_with_a_reason_and_the_case_is_closed(case, supervisor):
    case_write_off(case=case, actor=supervisor, reason="客户已故")
    case.refresh_from_db()
    assert (case.stage, case.close_reason) == (Stage.WRITTEN_OFF, "客户已故")
    assert case.closed_at is not None
    assert history(case) == [(Stage.REMINDER, Stage.WRITTEN_OFF, "supervisor-t")]


def test_closing_needs_a_reason(case, supervisor):
    with pytest.raises(ValidationError) as caught:
        case_close(case=case, actor=supervisor, reason="")
    assert "reason" in caught.value.message_dict


def test_a_closed_case_cannot_move_again(case, supervisor):
    case_settle(case=case, actor=supervisor, reason="和解 800 元")
    with pytest.raises(ValidationError, match="not possible"):
        case_write_off(case=case, actor=supervisor, reason="再核销")


def test_legal_reviewers_cannot_move_cases(case, legal):
    with pytest.raises(PermissionDenied):
        case_escalate(case=case, actor=legal, reason="x")


def test_a_stale_copy_of_a_case_gets_a_conflict_not_a_lost_update(case, agent, supervisor):

    stale = Case.objects.with_customer().get(pk=case.pk)
    case_escalate(case=case, actor=agent, reason="升级")
    with pytest.raises(CaseConflict, match=case.number):
        case_write_off(case=stale, actor=supervisor, reason="核销")
    assert Case.objects.get(pk=case.pk).stage == Stage.COLLECTION
    assert CaseTransition.objects.filter(case=case).count() == 1


def test_the_stage_cannot_be_assigned_directly(case):
    with pytest.raises(AttributeError):
        case.stage = Stage.LEGAL


@pytest.mark.parametrize("path", ["batch", "one_case"])
def test_a_case_a_supervisor_closed_is_not_reopened_or_escalated_by_the_next_night(case, supervisor, run_dunning, path):
    case_close(case=case, actor=supervisor, reason="客户身故，已核实")
    case.credit_line.refresh_from_db()
    assert case.credit_line.status == CreditLineStatus.CHARGED_OFF
    later = TODAY + datetime.timedelta(days=90)  # past the legal threshold, still unpaid
    if path == "batch":
        run_dunning(later)
    else:
        assert case_apply_dunning(credit_line=case.credit_line, as_of=later) is None
    assert list(Case.objects.filter(credit_line=case.credit_line).values_list("stage", flat=True)) == [Stage.CLOSED]
    assert not Letter.objects.filter(case__credit_line=case.credit_line).exists()
