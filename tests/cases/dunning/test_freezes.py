"""The freeze collections puts on a line when its case enters collection, and its lifting when the case is paid."""

import datetime

import pytest
from django.utils import timezone

from accounts.choices import CreditLineStatus
from accounts.models import CreditLine
from accounts.services import credit_line_charge_off, payment_post
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
