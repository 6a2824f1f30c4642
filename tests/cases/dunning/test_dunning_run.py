import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import CreditLineStatus
from accounts.services import payment_post
from backoffice.kernel.roles import LEGAL
from cases.casework.services import case_hold
from cases.choices import Stage
from cases.dunning.batch import id_ranges, load_thresholds, run_batch
from cases.dunning.lease import lease_acquire
from cases.models import Case, CaseTransition, DunningLease, DunningPolicy, DunningRun
from cases.workload.priority import FOLLOW_UP_BONUS, priority_parts, refresh_queue_ranks
from letters.models import Letter
from tests.factories import BillFactory, law_firm_with_lawyer, overdue_line, user_in

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)


def day(dpd: int) -> datetime.date:
    """The business date on which a bill due on DUE is ``dpd`` days past due."""
    return DUE + datetime.timedelta(days=dpd)


def stage_of(line) -> str | None:
    case = Case.objects.filter(credit_line=line).order_by("-id").first()
    return case.stage if case else None


def edges(line) -> list[tuple[str, str]]:
    return list(
        CaseTransition.objects.filter(case__credit_line=line)
        .order_by("created_at", "id")
        .values_list("from_stage", "to_stage")
    )


@pytest.mark.parametrize(
    ("policy", "dpd", "stage"),
    [
        ("standard", 0, None),
        ("standard", 1, Stage.REMINDER),
        ("standard", 30, Stage.REMINDER),
        ("standard", 31, Stage.COLLECTION),
        ("standard", 60, Stage.COLLECTION),
        ("standard", 61, Stage.LEGAL),
        ("fast-track", 11, Stage.COLLECTION),
        ("fast-track", 12, Stage.LEGAL),
    ],
)
def test_stage_follows_the_policy_thresholds_at_their_boundaries(run_dunning, policy, dpd, stage):
    line = overdue_line(due=DUE, policy=policy)
    run_dunning(day(dpd))
    assert stage_of(line) == stage


def test_a_line_that_jumps_from_dpd_0_to_70_gets_both_transitions_tagged_with_the_run(run_dunning):
    line = overdue_line(due=DUE)
    run_dunning(day(0))
    run = run_dunning(day(70))
    assert edges(line) == [(Stage.REMINDER, Stage.COLLECTION), (Stage.COLLECTION, Stage.LEGAL)]
    assert set(CaseTransition.objects.values_list("run_id", flat=True)) == {run.pk}
    case = Case.objects.get(credit_line=line)
    assert (case.days_past_due, case.balance_fen, case.opened_by_run_id) == (70, 100_000, run.pk)


def test_escalation_moves_one_rung_per_threshold_crossed_across_days(run_dunning):
    line = overdue_line(due=DUE)
    for dpd in (1, 30, 31, 45, 61, 62):
        run_dunning(day(dpd))
    assert edges(line) == [(Stage.REMINDER, Stage.COLLECTION), (Stage.COLLECTION, Stage.LEGAL)]


def pay(line, amount: str, on: datetime.date, reference: str):
    payment_post(
        credit_line=line,
        external_reference=reference,
        amount=amount,
        channel="bank_transfer",
        received_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(10))),
    )


def test_a_payment_that_leaves_one_fen_keeps_the_case_open(run_dunning):
    line = overdue_line(due=DUE)
    run_dunning(day(5))
    pay(line, "999.99", day(6), "P1")
    run_dunning(day(7))
    case = Case.objects.get(credit_line=line)
    assert (case.stage, case.balance_fen) == (Stage.REMINDER, 1)


def test_a_payment_in_full_resolves_the_case_with_a_transition(run_dunning):
    line = overdue_line(due=DUE)
    run_dunning(day(40))
    pay(line, "1000.00", day(41), "P1")
    run = run_dunning(day(42))
    case = Case.objects.get(credit_line=line)
    assert (case.stage, case.balance_fen) == (Stage.RESOLVED, 0)
    assert case.closed_at is not None
    assert edges(line)[-1] == (Stage.COLLECTION, Stage.RESOLVED)
    assert run.resolved == 1


def test_a_part_payment_lowering_the_dpd_never_steps_a_case_down(run_dunning):
    line = overdue_line(due=DUE)
    BillFactory(credit_line=line, due_date=day(31), principal_due_fen=100_000, interest_due_fen=0, fees_due_fen=0)
    run_dunning(day(40))
    pay(line, "1000.00", day(41), "P1")
    run_dunning(day(42))
    case = Case.objects.get(credit_line=line)
    assert (case.stage, case.days_past_due) == (Stage.COLLECTION, 11)


def snapshot():
    return (
        sorted(
            Case.objects.values_list(
                "credit_line_id", "stage", "days_past_due", "balance_fen", "hold_until", "queue_rank"
            )
        ),
        sorted(CaseTransition.objects.values_list("case__credit_line_id", "from_stage", "to_stage")),
        sorted(Case.objects.values_list("credit_line__id", "credit_line__status")),
        sorted(Letter.objects.values_list("case__credit_line_id", "status", "template__code", "requested_by")),
    )


def mixed_portfolio():
    lines = [overdue_line(due=DUE - datetime.timedelta(days=offset)) for offset in (0, 5, 29, 35, 59, 64, 90)]
    lines += [overdue_line(due=DUE - datetime.timedelta(days=offset), policy="fast-track") for offset in (2, 8, 15)]
    return lines


def test_the_same_date_twice_changes_nothing(run_dunning):
    mixed_portfolio()
    run_dunning(day(3))
    first = run_dunning(day(40))
    before = snapshot()
    again = run_dunning(day(40))
    assert snapshot() == before
    assert first.summary()["escalated"][Stage.COLLECTION] > 0
    assert (again.opened, again.escalated_collection, again.escalated_legal, again.resolved) == (0, 0, 0, 0)
    assert again.unchanged == Case.objects.open().count()


def test_the_run_stores_each_open_cases_documented_priority_as_its_queue_rank(run_dunning):

    mixed_portfolio()
    run_dunning(day(30))
    contacted, promised = Case.objects.open().order_by("id")[:2]
    Case.objects.filter(pk=contacted.pk).update(
        last_contact_at=timezone.make_aware(datetime.datetime.combine(day(36), datetime.time(21, 30)))
    )
    Case.objects.filter(pk=promised.pk).update(broken_promises=2, follow_up_on=day(40))
    run_dunning(day(40))
    cases = list(Case.objects.open())
    expected = {
        case.pk: sum(priority_parts(case, today=day(40)).values()) + FOLLOW_UP_BONUS * (case.pk == promised.pk)
        for case in cases
    }
    assert {case.pk: case.queue_rank for case in cases} == expected
    assert priority_parts(Case.objects.get(pk=contacted.pk), today=day(40))["since_last_contact"] == 4
    assert len(set(expected.values())) > 3
    # The SQL expression the services use gives the very same ranks.
    assert refresh_queue_ranks(today=day(40)) == 0


def test_a_dry_run_reports_the_changes_and_writes_none(run_dunning):
    mixed_portfolio()
    dry = run_dunning(day(40), dry_run=True)
    assert Case.objects.count() == 0
    real = run_dunning(day(40))
    assert (dry.opened, dry.escalated_collection, dry.escalated_legal) == (
        real.opened,
        real.escalated_collection,
        real.escalated_legal,
    )
    assert dry.opened == 10


def test_a_run_killed_half_way_and_started_again_ends_where_an_uninterrupted_run_would(run_dunning, django_db_blocker):
    # With the policies' lawyer letter active, so that the letters are compared too.
    law_firm_with_lawyer(user_in(LEGAL))
    mixed_portfolio()
    run_dunning(day(3))

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            run_dunning(day(40))
            uninterrupted = snapshot()
            assert len(uninterrupted[3]) == Case.objects.filter(stage=Stage.LEGAL).count() > 0
            raise Rollback
    except Rollback:
        pass
    # A run that died after its first batch committed: it left a "running" row and half the work.
    killed = DunningRun.objects.create(as_of=day(40), started_at=timezone.now())
    first, last = next(id_ranges(3))
    run_batch(run=killed, as_of=day(40), first_id=first, last_id=last, thresholds=load_thresholds())
    assert snapshot() != uninterrupted
    run_dunning(day(40))
    assert snapshot() == uninterrupted
    killed.refresh_from_db()
    assert killed.status == "abandoned"


def test_a_second_run_while_one_holds_the_lease_exits_at_once_with_a_clear_message():
    overdue_line(due=DUE)
    lease_acquire(holder="night-host:4242")
    with pytest.raises(CommandError, match=r"Another dunning run is in progress .*held by night-host:4242"):
        call_command("run_dunning", "--as-of", day(40).isoformat())
    assert Case.objects.count() == 0
    DunningLease.objects.update(holder="")
    call_command("run_dunning", "--as-of", day(40).isoformat())
    assert Case.objects.count() == 1


def test_a_case_on_hold_is_left_alone_until_the_hold_expires(run_dunning, agent):
    line = overdue_line(due=DUE)
    run_dunning(day(20))
    case = Case.objects.get(credit_line=line)
    case_hold(case=case, actor=agent, reason_code="dispute", note="客户称已还款", until=day(35), today=day(20))
    run_dunning(day(35))
    assert stage_of(line) == Stage.ON_HOLD
    run = run_dunning(day(36))
    assert stage_of(line) == Stage.COLLECTION
    assert edges(line) == [
        (Stage.REMINDER, Stage.ON_HOLD),
        (Stage.ON_HOLD, Stage.REMINDER),
        (Stage.REMINDER, Stage.COLLECTION),
    ]
    assert (run.holds_ended, run.escalated_collection) == (1, 1)
    assert Case.objects.get(pk=case.pk).hold_until is None


def test_entering_collection_freezes_the_line_only_when_the_policy_says_so(run_dunning):
    frozen = overdue_line(due=DUE)
    DunningPolicy.objects.filter(code="fast-track").update(freeze_line_on_collection=False)
    kept = overdue_line(due=DUE, policy="fast-track")
    run = run_dunning(day(31))
    frozen.refresh_from_db()
    kept.refresh_from_db()
    assert (frozen.status, kept.status) == (CreditLineStatus.FROZEN, CreditLineStatus.ACTIVE)
    assert run.lines_frozen == 1


def test_below_the_minimum_balance_a_case_stays_in_collection(run_dunning):
    DunningPolicy.objects.filter(code="standard").update(legal_min_balance_fen=200_000)
    small = overdue_line(due=DUE, principal_fen=100_000)
    large = overdue_line(due=DUE, principal_fen=300_000)
    run_dunning(day(61))
    assert (stage_of(small), stage_of(large)) == (Stage.COLLECTION, Stage.LEGAL)


def test_the_command_prints_the_summary_as_json(capsys):
    overdue_line(due=DUE)
    call_command("run_dunning", "--as-of", day(70).isoformat(), "--json")
    summary = json.loads(capsys.readouterr().out)
    assert {"opened", "escalated", "resolved", "unchanged", "seconds"} <= summary.keys()
    assert summary["opened"] == 1
    assert summary["escalated"] == {"collection": 1, "legal": 1}


def test_the_command_refuses_a_malformed_date():
    with pytest.raises(CommandError, match="2026-13-01"):
        call_command("run_dunning", "--as-of", "2026-13-01")


def test_at_most_one_open_case_per_credit_line_is_enforced_by_the_database(run_dunning):

    line = overdue_line(due=DUE)
    run_dunning(day(5))
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(credit_line=line, customer=line.customer, opened_on=day(5), opened_at=timezone.now())
