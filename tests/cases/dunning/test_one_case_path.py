"""The batch run and the one-case django-fsm path follow one graph and give the same transitions."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import CreditLine
from accounts.services import payment_post
from cases.casework.services import case_hold
from cases.choices import LADDER, Stage
from cases.dunning.services import case_apply_dunning
from cases.models import ESCALATION_METHODS, Case, CaseTransition
from tests.factories import overdue_line
from tests.undo import undone

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)


def portfolio(agent):
    lines = [overdue_line(due=DUE - datetime.timedelta(days=offset)) for offset in (0, 3, 29, 31, 58, 65, 120)]
    lines += [overdue_line(due=DUE - datetime.timedelta(days=offset), policy="fast-track") for offset in (1, 9, 14)]
    paid = lines[3]
    payment_post(
        credit_line=paid,
        external_reference="P-FULL",
        amount="1000.00",
        channel="alipay",
        received_at=timezone.make_aware(datetime.datetime(2026, 2, 1, 9)),
    )
    return lines


def outcome():
    transitions = sorted(CaseTransition.objects.values_list("case__credit_line_id", "from_stage", "to_stage", "reason"))
    cases = sorted(
        Case.objects.values_list(
            "credit_line_id", "stage", "days_past_due", "balance_fen", "customer_id", "credit_line__customer_id"
        )
    )
    lines = sorted(CreditLine.objects.values_list("id", "status"))
    return transitions, cases, lines


def one_case_at_a_time(as_of):
    for line in CreditLine.objects.select_related("product__policy").order_by("id"):
        case_apply_dunning(credit_line=line, as_of=as_of)


def test_batch_and_one_case_paths_make_the_same_transitions_for_the_same_input(run_dunning, agent):
    portfolio(agent)
    dates = [datetime.date(2026, 1, 12), datetime.date(2026, 2, 10), datetime.date(2026, 3, 15)]

    def batch():
        for as_of in dates:
            run_dunning(as_of)

    def one_by_one():
        for as_of in dates:
            one_case_at_a_time(as_of)

    by_batch, by_case = undone(batch, outcome), undone(one_by_one, outcome)
    assert by_batch == by_case
    # Each case, however it was opened, stores its line's customer.
    assert by_batch[1]
    assert all(customer == line_customer for *_figures, customer, line_customer in by_batch[1])
    assert {(src, dst) for _line, src, dst, _reason in by_batch[0]} == {
        (Stage.REMINDER, Stage.COLLECTION),
        (Stage.COLLECTION, Stage.LEGAL),
        (Stage.COLLECTION, Stage.RESOLVED),
    }


def test_both_paths_end_holds_the_same_way(run_dunning, agent):
    line = overdue_line(due=DUE)
    run_dunning(datetime.date(2026, 1, 20))
    case = Case.objects.get(credit_line=line)
    case_hold(
        case=case,
        actor=agent,
        reason_code="hardship",
        note="失业",
        until=datetime.date(2026, 2, 1),
        today=datetime.date(2026, 1, 20),
    )
    later = datetime.date(2026, 3, 20)
    assert undone(lambda: run_dunning(later), outcome) == undone(lambda: one_case_at_a_time(later), outcome)


def test_the_ladder_the_batch_run_climbs_is_the_django_fsm_graph():
    fsm_edges = {
        (transition.source, transition.target)
        for transition in Case._meta.get_field("stage").get_all_transitions(Case)
        if transition.source in LADDER and transition.target in LADDER
    }
    assert fsm_edges == set(ESCALATION_METHODS) == {(LADDER[i], LADDER[i + 1]) for i in range(len(LADDER) - 1)}
    for (source, target), name in ESCALATION_METHODS.items():
        transitions = {(t.source, t.target) for t in getattr(Case, name)._django_fsm.transitions.values()}
        assert transitions == {(source, target)}
