"""The worklist leaves out a line only when planning it would change nothing."""

import datetime
import random

import pytest
from django.utils import timezone

from accounts.models import CreditLine
from accounts.positions import credit_line_position
from accounts.services import payment_post
from cases.casework.services import case_escalate, case_hold, case_resume
from cases.choices import Stage
from cases.dunning.plan import OpenCase, Thresholds, plan_line
from cases.dunning.worklist import worklist
from cases.models import Case, DunningPolicy
from tests.factories import BillFactory, overdue_line

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 1)


def needs_planning() -> set[int]:
    """Lines whose plan has edges or whose stored figures are stale, judged line by line."""
    result = set()
    for line in CreditLine.objects.select_related("product__policy"):
        position = credit_line_position(credit_line=line, as_of=DAY)
        case = Case.objects.open().filter(credit_line=line).first()
        snapshot = case and OpenCase(
            case.pk, case.stage, case.days_past_due, case.balance_fen, case.hold_until, case.held_from_stage
        )
        plan = plan_line(
            case=snapshot,
            thresholds=Thresholds.of(line.product.policy),
            days_past_due=position.days_past_due,
            overdue_fen=position.overdue_fen,
            as_of=DAY,
        )
        stale = case is not None and (case.days_past_due, case.balance_fen) != (
            position.days_past_due,
            position.overdue_fen,
        )
        if plan.edges or plan.open_case or stale:
            result.add(line.pk)
    return result


def listed() -> set[int]:
    return {item.credit_line_id for item in worklist(as_of=DAY, first_id=0, last_id=10**9)}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_line_that_needs_planning_is_on_the_worklist_after_people_and_policies_change(
    seed, run_dunning, agent, supervisor
):
    rng = random.Random(seed)
    lines = [
        overdue_line(
            due=DAY - datetime.timedelta(days=rng.randint(0, 100)), policy=rng.choice(["standard", "fast-track"])
        )
        for _ in range(30)
    ]
    for line in rng.sample(lines, 8):
        BillFactory(credit_line=line, due_date=DAY + datetime.timedelta(days=5), principal_due_fen=50_000)
    run_dunning(DAY)
    assert listed() == needs_planning() == set()

    cases = list(Case.objects.open().with_customer())
    for case in rng.sample(cases, min(6, len(cases))):
        case_hold(
            case=case,
            actor=agent,
            reason_code="dispute",
            note="争议",
            until=DAY + datetime.timedelta(days=3),
            today=DAY - datetime.timedelta(days=1),
        )
    for case in Case.objects.filter(stage=Stage.ON_HOLD).with_customer()[:2]:
        case_resume(case=case, actor=agent, reason="争议已解决")
    for case in Case.objects.filter(stage=Stage.REMINDER).with_customer()[:2]:
        case_escalate(case=case, actor=agent, reason="失联")
    for line in rng.sample(lines, 5):
        payment_post(
            credit_line=line,
            external_reference=f"P-{line.pk}",
            amount=str(rng.choice([1, 300, 999, 2000])),
            channel="alipay",
            received_at=timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(9))),
        )
    DunningPolicy.objects.filter(code="standard").update(collection_from_dpd=20, legal_from_dpd=45)
    expiring = Case.objects.filter(stage=Stage.ON_HOLD).order_by("id").first()
    Case.objects.filter(pk=expiring.pk).update(hold_until=DAY - datetime.timedelta(days=1))

    expected = needs_planning()
    assert expected, "the changes above should leave work for the run"
    assert expected <= listed()


def test_a_same_day_rerun_after_lowering_a_threshold_escalates(run_dunning):
    line = overdue_line(due=DAY - datetime.timedelta(days=50))
    run_dunning(DAY)
    DunningPolicy.objects.filter(code="standard").update(legal_from_dpd=40)
    run = run_dunning(DAY)
    assert Case.objects.get(credit_line=line).stage == Stage.LEGAL
    assert run.escalated_legal == 1


def test_a_same_day_rerun_climbs_again_after_a_hold_is_lifted_by_hand(run_dunning, agent):
    line = overdue_line(due=DAY - datetime.timedelta(days=50))
    run_dunning(DAY - datetime.timedelta(days=25))
    case = Case.objects.with_customer().get(credit_line=line)
    case_hold(
        case=case,
        actor=agent,
        reason_code="promise_to_pay",
        note="承诺",
        until=DAY + datetime.timedelta(days=5),
        today=DAY - datetime.timedelta(days=25),
    )
    run_dunning(DAY)
    assert Case.objects.get(pk=case.pk).stage == Stage.ON_HOLD
    case_resume(case=Case.objects.with_customer().get(pk=case.pk), actor=agent, reason="未履约")
    run_dunning(DAY)
    assert Case.objects.get(pk=case.pk).stage == Stage.COLLECTION
