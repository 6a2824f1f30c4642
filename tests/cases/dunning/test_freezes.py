"""The freeze collections puts on a line when its case enters collection, and its lifting when the case is paid."""

import datetime

import pytest
from django.utils import timezone

from accounts.choices import CreditLineStatus
from accounts.models import CreditLine
from accounts.services import credit_line_charge_off, credit_line_upsert, payment_post
from backoffice.kernel.events import Event, EventType
from cases.choices import Stage
from cases.dunning.services import case_apply_dunning
from cases.models import Case
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
IN_COLLECTION = DUE + datetime.timedelta(days=35)
PAID_ON = IN_COLLECTION + datetime.timedelta(days=1)


@pytest.fixture(params=["batch", "one_case"])
def night(request, run_dunning):
    """Run the night for one date, the set-based way or through the one-case django-fsm path."""

    def run(line: CreditLine, as_of: datetime.date) -> None:
        if request.param == "batch":
            run_dunning(as_of)
        else:
            case_apply_dunning(
                credit_line=CreditLine.objects.select_related("product__policy").get(pk=line.pk), as_of=as_of
            )

    return run


def pay_in_full(line: CreditLine) -> None:
    received = timezone.make_aware(datetime.datetime.combine(PAID_ON, datetime.time(10)))
    payment_post(
        credit_line=line, external_reference=f"FULL-{line.pk}", amount="1000.00", channel="alipay", received_at=received
    )


def status_of(line: CreditLine) -> str:
    return CreditLine.objects.get(pk=line.pk).status


def test_the_freeze_collections_made_is_lifted_when_the_case_is_paid_in_full(night):
    line = overdue_line(due=DUE)
    night(line, IN_COLLECTION)
    case = Case.objects.get(credit_line=line)
    assert (case.stage, case.froze_line, status_of(line)) == (Stage.COLLECTION, True, CreditLineStatus.FROZEN)
    pay_in_full(line)
    night(line, PAID_ON)
    assert Case.objects.get(pk=case.pk).stage == Stage.RESOLVED
    assert status_of(line) == CreditLineStatus.ACTIVE


def test_a_line_the_lender_froze_stays_frozen_when_the_case_is_paid(night):
    line = overdue_line(due=DUE)
    CreditLine.objects.filter(pk=line.pk).update(status=CreditLineStatus.FROZEN)  # the lender's own freeze
    night(line, IN_COLLECTION)
    assert Case.objects.get(credit_line=line).froze_line is False
    pay_in_full(line)
    night(line, PAID_ON)
    assert Case.objects.get(credit_line=line).stage == Stage.RESOLVED
    assert status_of(line) == CreditLineStatus.FROZEN


def test_a_charged_off_line_is_never_reactivated_by_a_case_that_froze_it(night):
    line = overdue_line(due=DUE)
    night(line, IN_COLLECTION)
    credit_line_charge_off(credit_line=line)
    pay_in_full(line)
    night(line, PAID_ON)
    assert Case.objects.get(credit_line=line).stage == Stage.RESOLVED
    assert status_of(line) == CreditLineStatus.CHARGED_OFF


def lender_sends(line: CreditLine, *, closed: bool) -> str:
    """Send the line again as the lender does, closed or open, and return the status it then has."""
    line = CreditLine.objects.select_related("customer", "product").get(pk=line.pk)
    credit_line_upsert(
        number=line.number,
        customer=line.customer,
        product_code=line.product.code,
        limit="10000.00",
        opened_on=line.opened_on,
        closed=closed,
        actor=None,
    )
    return status_of(line)


def test_the_lender_closing_and_reopening_a_line_collections_froze_leaves_it_frozen(night):
    line = overdue_line(due=DUE)
    night(line, IN_COLLECTION)
    assert lender_sends(line, closed=True) == CreditLineStatus.CLOSED
    assert lender_sends(line, closed=False) == CreditLineStatus.FROZEN
    assert not Event.objects.filter(type=EventType.CREDIT_LINE_UNFROZEN).exists()
    night(line, IN_COLLECTION + datetime.timedelta(days=1))
    assert status_of(line) == CreditLineStatus.FROZEN


def test_a_line_closed_while_frozen_reopens_active_once_collections_lifted_its_freeze(night):
    line = overdue_line(due=DUE)
    night(line, IN_COLLECTION)
    lender_sends(line, closed=True)
    pay_in_full(line)
    night(line, PAID_ON)
    assert (status_of(line), CreditLine.objects.get(pk=line.pk).held_frozen) == (CreditLineStatus.CLOSED, False)
    assert lender_sends(line, closed=False) == CreditLineStatus.ACTIVE


def test_reopening_a_line_nobody_froze_makes_it_active(night):
    line = overdue_line(due=DUE)
    lender_sends(line, closed=True)
    assert lender_sends(line, closed=False) == CreditLineStatus.ACTIVE
