"""Promises to pay: they hold escalation, and the dunning run marks them kept or broken."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.services import payment_post
from cases.choices import PromiseStatus, Stage
from cases.models import Case, Promise
from cases.promises.services import promise_record

pytestmark = pytest.mark.django_db

from tests.factories import overdue_line  # noqa: E402

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 2, 5)  # DPD 26: one week before collection


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=DUE)
    run_dunning(TODAY)
    return Case.objects.with_customer().get(credit_line=line)


def pay(case, amount, on):
    payment_post(
        credit_line=case.credit_line,
        external_reference=f"P-{amount}-{on}",
        amount=amount,
        channel="alipay",
        received_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(12))),
    )


def test_a_pending_promise_holds_escalation_and_a_kept_one_is_marked_kept(case, agent, run_dunning):
    promise = promise_record(
        case=case, actor=agent, amount="300.00", due_date=TODAY + datetime.timedelta(days=7), today=TODAY
    )
    assert Case.objects.get(pk=case.pk).stage == Stage.ON_HOLD
    assert promise.grace_until == TODAY + datetime.timedelta(days=10)
    run_dunning(TODAY + datetime.timedelta(days=8))
    assert Case.objects.get(pk=case.pk).stage == Stage.ON_HOLD  # DPD 34, still held
    pay(case, "300.00", TODAY + datetime.timedelta(days=9))
    run = run_dunning(TODAY + datetime.timedelta(days=9))
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT
    assert run.promises_kept == 1


def test_a_broken_promise_releases_the_hold_and_raises_priority(case, agent, run_dunning):
    promise_record(case=case, actor=agent, amount="500.00", due_date=TODAY + datetime.timedelta(days=2), today=TODAY)
    before = Case.objects.get(pk=case.pk).queue_rank
    run_dunning(TODAY + datetime.timedelta(days=5))  # grace ends on day 5: not broken yet
    assert Promise.objects.get().status == PromiseStatus.PENDING
    run = run_dunning(TODAY + datetime.timedelta(days=6))
    after = Case.objects.get(pk=case.pk)
    assert Promise.objects.get().status == PromiseStatus.BROKEN
    assert (run.promises_broken, after.broken_promises) == (1, 1)
    assert after.stage == Stage.COLLECTION  # the hold ended and the case climbed (DPD 32)
    assert after.queue_rank > before
    again = run_dunning(TODAY + datetime.timedelta(days=6))
    assert again.promises_broken == 0
    assert Case.objects.get(pk=case.pk).broken_promises == 1


def test_a_partial_payment_does_not_keep_the_promise(case, agent, run_dunning):
    promise_record(case=case, actor=agent, amount="500.00", due_date=TODAY + datetime.timedelta(days=2), today=TODAY)
    pay(case, "499.99", TODAY + datetime.timedelta(days=1))
    run_dunning(TODAY + datetime.timedelta(days=6))
    assert Promise.objects.get().status == PromiseStatus.BROKEN


@pytest.mark.parametrize(
    ("field", "amount", "days"), [("amount", "0", 3), ("due_date", "100.00", -1), ("due_date", "100.00", 60)]
)
def test_a_bad_promise_is_refused_naming_the_field(case, agent, field, amount, days):
    with pytest.raises(ValidationError) as caught:
        promise_record(
            case=case, actor=agent, amount=amount, due_date=TODAY + datetime.timedelta(days=days), today=TODAY
        )
    assert field in caught.value.message_dict
    assert Promise.objects.count() == 0


def test_supervisors_see_each_agents_kept_rate(client, case, agent, supervisor, run_dunning):
    promise_record(case=case, actor=agent, amount="100.00", due_date=TODAY + datetime.timedelta(days=1), today=TODAY)
    run_dunning(TODAY + datetime.timedelta(days=5))
    client.force_login(supervisor)
    page = client.get(reverse("admin:cases_promise_changelist")).content.decode()
    assert 'id="kept-rates"' in page
    assert "0%" in page


def test_a_promise_that_holds_the_case_keeps_its_follow_up_date(case, agent):
    # The hold's stage change once saved the whole case as read, putting the old follow-up back.
    promise_record(case=case, actor=agent, amount="500.00", due_date=TODAY + datetime.timedelta(days=2), today=TODAY)
    held = Case.objects.get(pk=case.pk)
    assert held.stage == Stage.ON_HOLD
    assert held.follow_up_on == TODAY + datetime.timedelta(days=2)
