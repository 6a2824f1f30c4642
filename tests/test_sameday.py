"""Same-day truth is the night's answer, now: set-wise, the one-case path and the night agree line for line."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _

from accounts.models import CreditLine
from accounts.services import credit_line_charge_off, payment_post
from backoffice.kernel.events import Event, EventType
from backoffice.sameday import lines_refresh
from cases.casework.services import case_hold
from cases.choices import Stage
from cases.dunning.services import case_apply_dunning
from cases.models import Case, CaseTransition
from cases.promises.models import Promise
from cases.promises.services import promise_record
from letters.models import Letter, LetterTemplate
from letters.services import letter_draft, letters_cancel_unsent
from tests.factories import law_firm_with_lawyer, overdue_line
from tests.undo import undone

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 20)
YESTERDAY = TODAY - datetime.timedelta(days=1)
NOW = datetime.datetime(2026, 3, 20, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def pay(line, reference, amount):
    payment_post(credit_line=line, external_reference=reference, amount=amount, channel="alipay", received_at=NOW)


def mix(run_dunning, agent, legal):
    """Lines of every kind, their cases as last night left them, and today's payments in the ledger alone."""
    lines = {
        "paid_in_full": overdue_line(due=datetime.date(2026, 1, 10)),
        "paid_with_a_letter": overdue_line(due=datetime.date(2026, 1, 5)),
        "part_paid": overdue_line(due=datetime.date(2026, 1, 10)),
        "promised_and_paid": overdue_line(due=datetime.date(2026, 2, 10)),
        "newly_overdue": overdue_line(due=YESTERDAY),
        "escalating": overdue_line(due=datetime.date(2026, 2, 17)),
        "escalating_fast": overdue_line(due=datetime.date(2026, 3, 8), policy="fast-track"),
        "held": overdue_line(due=datetime.date(2026, 1, 10)),
        "charged_off": overdue_line(due=YESTERDAY),
        "untouched": overdue_line(due=datetime.date(2026, 2, 1)),
    }
    run_dunning(YESTERDAY)
    credit_line_charge_off(credit_line=lines["charged_off"])
    held = Case.objects.get(credit_line=lines["held"])
    case_hold(case=held, actor=agent, reason_code="hardship", note="失业", until=TODAY + datetime.timedelta(days=10))
    promised = Case.objects.get(credit_line=lines["promised_and_paid"])
    promise_record(case=promised, actor=agent, amount="300.00", due_date=TODAY + datetime.timedelta(days=3))
    law_firm_with_lawyer(legal)
    lettered = Case.objects.with_customer().get(credit_line=lines["paid_with_a_letter"])
    letter_draft(
        case=lettered,
        template=LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans"),
        actor=agent,
        render=False,
    )
    pay(lines["paid_in_full"], "FULL-1", "1000.00")
    pay(lines["paid_with_a_letter"], "FULL-2", "1000.00")
    pay(lines["part_paid"], "PART-1", "300.00")
    pay(lines["promised_and_paid"], "PROMISE-1", "300.00")
    pay(lines["escalating"], "SMALL-1", "10.00")
    pay(lines["held"], "HELD-1", "50.00")
    pay(lines["charged_off"], "CHARGED-1", "5.00")
    return lines


def outcome():
    cases = sorted(
        Case.objects.values_list(
            "credit_line_id",
            "stage",
            "days_past_due",
            "balance_fen",
            "queue_rank",
            "froze_line",
            "hold_until",
            "broken_promises",
            "closed_at",
        )
    )
    # When a case closed is a moment of the run; whether it closed is part of the answer. A closed
    # case is in no queue: the one-case path leaves its last rank as it was, the batch writes another.
    cases = [(*case[:4], case[4] if case[-1] is None else None, *case[5:-1], case[-1] is None) for case in cases]
    transitions = sorted(CaseTransition.objects.values_list("case__credit_line_id", "from_stage", "to_stage", "reason"))
    lines = sorted(CreditLine.objects.values_list("id", "status"))
    promises = sorted(Promise.objects.values_list("case__credit_line_id", "status", "settled_on"))
    letters = sorted(Letter.objects.values_list("case__credit_line_id", "status", "cancellation_reason"))
    events = sorted(Event.objects.values_list("type", "credit_line_id"))
    return {
        "cases": cases,
        "transitions": transitions,
        "lines": lines,
        "promises": promises,
        "letters": letters,
        "events": events,
    }


@time_machine.travel(NOW, tick=False)
def test_the_same_day_refresh_the_one_case_path_and_the_night_give_the_same_answer(run_dunning, agent, legal):
    lines = mix(run_dunning, agent, legal)
    ids = [line.pk for line in lines.values()]

    def set_wise():
        lines_refresh(line_ids=ids, as_of=TODAY)

    def one_case_at_a_time():
        resolved = []
        for line in CreditLine.objects.filter(pk__in=ids).select_related("product__policy").order_by("id"):
            case = case_apply_dunning(credit_line=line, as_of=TODAY)
            if case is not None and case.stage == Stage.RESOLVED:
                resolved.append(case.pk)
        letters_cancel_unsent(case_ids=resolved, reason=_("The case was paid in full before the letter was sent."))

    def night():
        run_dunning(TODAY)

    by_set, by_case, by_night = undone(set_wise, outcome), undone(one_case_at_a_time, outcome), undone(night, outcome)
    # The night drafts letters for cases in legal and leaves a paid case's unsent letter to the re-check
    # before dispatch; the same day cancels it at once. Everything else is the same, line for line.
    for part in ("letters", "events"):
        assert by_set[part] == by_case[part], part
    assert by_set["letters"] == [
        (lines["paid_with_a_letter"].pk, "cancelled", _("The case was paid in full before the letter was sent."))
    ]
    same_day_only = {EventType.LETTER_CANCELLED}
    assert [event for event in by_set["events"] if event[0] not in same_day_only] == [
        event for event in by_night["events"] if event[1] in ids
    ]
    for part in ("cases", "transitions", "lines", "promises"):
        assert by_set[part] == by_case[part], part
        assert by_set[part] == by_night[part], part
    stages = {line_id: stage for line_id, stage, *_rest in by_set["cases"]}
    assert stages[lines["paid_in_full"].pk] == stages[lines["paid_with_a_letter"].pk] == Stage.RESOLVED
    assert stages[lines["escalating"].pk] == Stage.COLLECTION
    assert stages[lines["newly_overdue"].pk] == Stage.REMINDER
    assert stages[lines["held"].pk] == Stage.ON_HOLD
    assert lines["charged_off"].pk not in stages
    assert by_set["promises"] == [(lines["promised_and_paid"].pk, "kept", TODAY)]


def portfolio_of(size):
    lines = []
    for serial in range(size):
        due = datetime.date(2026, 1, 10) if serial % 2 else YESTERDAY
        lines.append(overdue_line(due=due))
    return lines


@time_machine.travel(NOW, tick=False)
def test_the_same_day_refresh_of_a_hundred_lines_takes_no_more_statements_than_of_ten(
    run_dunning, django_assert_max_num_queries
):
    lines = portfolio_of(110)
    run_dunning(YESTERDAY - datetime.timedelta(days=1), batch_size=1000)
    for serial, line in enumerate(lines):
        pay(line, f"P-{serial}", "1000.00" if serial % 4 == 1 else "10.00")
    with CaptureQueriesContext(connection) as ten:
        resolved_of_ten = lines_refresh(line_ids=[line.pk for line in lines[:10]], as_of=TODAY)
    with django_assert_max_num_queries(len(ten)):
        resolved_of_hundred = lines_refresh(line_ids=[line.pk for line in lines[10:]], as_of=TODAY)
    assert (resolved_of_ten, resolved_of_hundred) == (3, 25)
    # The lines unfrozen take two statements (their status and the freeze collections held), the messages
    # no longer due one.
    assert len(ten) <= 32
