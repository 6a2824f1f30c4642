"""Two connections at once, on a real PostgreSQL (SQLite serialises writers, so it cannot show a race)."""

import datetime
import threading

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import Payment, PaymentAllocation
from accounts.services import payment_post
from backoffice.night import dunning_run
from cases.casework.services import CaseConflict, case_escalate, case_write_off
from cases.choices import Stage
from cases.models import Case, CaseTransition
from tests.factories import overdue_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def race(*workers):
    """Run each worker in its own thread and connection, released together; return what each returned or raised."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index, worker):
        try:
            results[index] = worker(barrier)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_people_moving_the_same_case_at_once_one_wins_the_other_gets_a_conflict(
    on_postgres, shipped_data, agent, supervisor
):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    dunning_run(as_of=datetime.date(2026, 1, 20), batch_size=100)
    case_id = Case.objects.get(credit_line=line).pk

    def escalate(barrier):
        case = Case.objects.with_customer().get(pk=case_id)
        barrier.wait()
        return case_escalate(case=case, actor=agent, reason="升级")

    def write_off(barrier):
        case = Case.objects.with_customer().get(pk=case_id)
        barrier.wait()
        return case_write_off(case=case, actor=supervisor, reason="核销")

    results = race(escalate, write_off)
    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if isinstance(r, CaseConflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert "changed by someone else" in str(losers[0])
    final = Case.objects.get(pk=case_id)
    assert final.stage == winners[0].stage
    assert list(CaseTransition.objects.filter(case_id=case_id).values_list("to_stage", flat=True)) == [final.stage]
    assert final.stage in (Stage.COLLECTION, Stage.WRITTEN_OFF)


def test_the_same_payment_posted_twice_at_once_is_recorded_once(on_postgres, shipped_data):
    line = overdue_line(due=datetime.date(2026, 1, 10))

    def post(barrier):
        barrier.wait()
        return payment_post(
            credit_line=line,
            external_reference="BANK-777",
            amount="300.00",
            channel="bank_transfer",
            received_at=timezone.make_aware(datetime.datetime(2026, 1, 20, 9)),
        )

    first, second = race(post, post)
    assert isinstance(first, Payment), first
    assert isinstance(second, Payment), second
    assert first.pk == second.pk
    assert Payment.objects.count() == 1
    assert PaymentAllocation.objects.get().total_fen == 30_000


def test_the_dunning_run_and_a_person_at_once_leave_one_consistent_history(on_postgres, shipped_data, agent):
    lines = [overdue_line(due=datetime.date(2026, 1, 10)) for _ in range(20)]
    dunning_run(as_of=datetime.date(2026, 1, 20), batch_size=100)
    target = Case.objects.get(credit_line=lines[7]).pk

    def person(barrier):
        case = Case.objects.with_customer().get(pk=target)
        barrier.wait()
        return case_escalate(case=case, actor=agent, reason="升级")

    def run(barrier):
        barrier.wait()
        return dunning_run(as_of=datetime.date(2026, 3, 20), batch_size=5)

    race(person, run)
    for case in Case.objects.all():
        stages = list(case.transitions.order_by("id").values_list("from_stage", "to_stage"))
        walked = [Stage.REMINDER]
        for source, target_stage in stages:
            assert source == walked[-1], (case.pk, stages)
            walked.append(target_stage)
        assert walked[-1] == case.stage
