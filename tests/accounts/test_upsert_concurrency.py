"""The same customer, line or bill sent several times at once on a real PostgreSQL: created once, updated by the rest."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Bill, CreditLine, Customer
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from tests.cases.casework.test_concurrency import race
from tests.factories import CustomerFactory, overdue_line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ID_NUMBER = "110101199003074514"
AT_ONCE = 8


@pytest.fixture
def token(on_postgres, shipped_data):
    root = User.objects.create_superuser("root-race", password="pw-123456")
    return api_client_create(name="core-race", scopes=[Scope.LEDGER_WRITE], actor=root)[1]


def poster(token: str, url: str, body: dict):
    def post(barrier):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        response = api.post(url, body, format="json")
        return response.status_code, response.content

    return post


def statuses(url: str, body: dict, token: str) -> list[int]:
    results = race(*(poster(token, url, body) for _ in range(AT_ONCE)))
    assert all(isinstance(result, tuple) for result in results), results
    return sorted(status for status, _content in results)


def test_the_same_new_customer_sent_eight_times_at_once_is_created_once_and_updated_seven_times(token):
    body = {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13812345678"}
    assert statuses(reverse("api:customers"), body, token) == [200] * (AT_ONCE - 1) + [201]
    assert Customer.objects.filter(national_id=ID_NUMBER).count() == 1


def test_the_same_new_line_sent_eight_times_at_once_is_opened_once(token):
    overdue_line(due=datetime.date(2026, 1, 10))  # makes the p-standard product
    customer = CustomerFactory()
    body = {
        "number": "CL-RACE-1",
        "customer_national_id": customer.national_id,
        "product": "p-standard",
        "limit": "5000.00",
        "opened_on": "2025-06-01",
    }
    assert statuses(reverse("api:credit-lines"), body, token) == [200] * (AT_ONCE - 1) + [201]
    assert CreditLine.objects.filter(number="CL-RACE-1").count() == 1


def test_the_same_new_bill_sent_eight_times_at_once_is_created_once(token):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    body = {"due_date": "2026-02-10", "principal_due": "100.00"}
    assert statuses(reverse("api:bills", args=[line.number]), body, token) == [200] * (AT_ONCE - 1) + [201]
    assert Bill.objects.filter(credit_line=line, due_date=datetime.date(2026, 2, 10)).count() == 1
