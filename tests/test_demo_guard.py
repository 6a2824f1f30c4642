"""``seed_demo`` runs only with DEBUG on, and its ``--reset`` never deletes rows the demo did not write."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Customer, Payment, PersonalDataReveal
from accounts.services import customer_reveal, payment_post
from backoffice.kernel.roles import AGENT
from tests.factories import CreditLineFactory, CustomerFactory, user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    """A database seeded by the demo alone (20 customers)."""
    settings.DEBUG = True
    call_command("seed_demo", "--customers", "20", "--seed", "3")
    return Customer.objects.first()


def test_with_debug_off_seed_demo_refuses_and_creates_no_login(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", "--customers", "5")
    assert not User.objects.filter(username__in=["admin", "agent1"]).exists()
    assert not Customer.objects.exists()


def test_a_reset_of_the_demos_own_rows_rebuilds_them(demo):
    call_command("seed_demo", "--customers", "7", "--reset", "--no-input")
    assert Customer.objects.count() == 7


def test_a_reset_deletes_nothing_when_a_real_payment_is_present(demo):
    payment_post(
        credit_line=demo.credit_lines.first(),
        external_reference="ALIPAY-2026-0001",
        amount="10.00",
        channel="alipay",
        received_at=timezone.now() - datetime.timedelta(hours=1),
    )
    payments, customers = Payment.objects.count(), Customer.objects.count()
    with pytest.raises(CommandError, match="1 payments"):
        call_command("seed_demo", "--customers", "7", "--reset", "--no-input")
    assert (Payment.objects.count(), Customer.objects.count()) == (payments, customers)


def test_a_reset_deletes_nothing_when_someone_else_revealed_a_number(demo):
    customer_reveal(customer=demo, actor=user_in(AGENT, "agent-real"), field="mobile", reason="客户来电，核对号码")
    reveals = PersonalDataReveal.objects.count()
    with pytest.raises(CommandError, match="1 personal-data reveals"):
        call_command("seed_demo", "--reset", "--no-input")
    assert PersonalDataReveal.objects.count() == reveals


def test_a_reset_deletes_nothing_when_a_customer_and_line_came_from_elsewhere(demo):
    CreditLineFactory(customer=CustomerFactory(), number="L-REAL-0001")
    with pytest.raises(CommandError, match="1 credit lines, 1 customers"):
        call_command("seed_demo", "--reset", "--no-input")
    assert Customer.objects.filter(credit_lines__number="L-REAL-0001").exists()
