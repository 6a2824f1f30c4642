"""What the ledger's API refuses: unknown fields, loose amounts, hidden characters, bad dates and line numbers."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Bill, CreditLine, Customer
from accounts.services import payment_post
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.api.strict import StrictDateTimeField
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003074514"
CUSTOMER = {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13812345678"}


@pytest.fixture
def writer(db):
    root = User.objects.create_superuser("root-input", password="pw-123456")
    _client, token = api_client_create(name="core-input", scopes=[Scope.LEDGER_WRITE], actor=root)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.fixture
def line_sent(writer):
    """The customer and a line CL-IN-1 on the standard product, sent by the lender; return the line's payload."""
    overdue_line(due=datetime.date(2026, 1, 10))  # makes the p-standard product
    assert writer.post(reverse("api:customers"), CUSTOMER, format="json").status_code == 201
    line = {
        "number": "CL-IN-1",
        "customer_national_id": ID_NUMBER,
        "product": "p-standard",
        "limit": "5000.00",
        "opened_on": "2025-06-01",
    }
    assert writer.post(reverse("api:credit-lines"), line, format="json").status_code == 201
    return line


def errors(response) -> list[tuple]:
    assert response.status_code == 400, response.content
    return [(error["field"], error["value"]) for error in response.json()["errors"]]


def test_an_unknown_field_is_refused_by_name_and_nothing_changes(writer):
    writer.post(reverse("api:customers"), CUSTOMER, format="json")
    response = writer.post(reverse("api:customers"), {**CUSTOMER, "do_not_contakt": True}, format="json")
    assert errors(response) == [("do_not_contakt", True)]
    assert "Unknown field 'do_not_contakt'" in response.json()["errors"][0]["message"]
    assert Customer.objects.get().do_not_contact is False


def test_a_read_only_field_sent_to_a_bill_is_refused_as_unknown(writer, line_sent):
    bill = {"due_date": "2026-01-10", "principal_due": "100.00", "principal_paid": "100.00"}
    response = writer.post(reverse("api:bills", args=["CL-IN-1"]), bill, format="json")
    assert errors(response) == [("principal_paid", "100.00")]
    assert not Bill.objects.filter(credit_line__number="CL-IN-1").exists()


@pytest.mark.parametrize("amount", ["1e2", "１.００", "NaN", "1.005", " 1.00", "1.00\n", "+1"])
def test_an_amount_that_is_not_plain_ascii_digits_with_two_decimals_is_refused(writer, line_sent, amount):
    response = writer.post(reverse("api:credit-lines"), {**line_sent, "limit": amount}, format="json")
    assert errors(response) == [("limit", amount)]
    assert response.json()["errors"][0]["message"].startswith(f"Amount {amount!r} must be plain digits")


def test_an_unknown_time_zone_and_an_overlong_address_are_refused(writer):
    response = writer.post(reverse("api:customers"), {**CUSTOMER, "time_zone": "Mars/Olympus"}, format="json")
    assert errors(response) == [("time_zone", "Mars/Olympus")]
    response = writer.post(reverse("api:customers"), {**CUSTOMER, "address": "路" * 200_000}, format="json")
    assert [field for field, _value in errors(response)] == ["address"]
    assert not Customer.objects.exists()
    ok = writer.post(reverse("api:customers"), {**CUSTOMER, "time_zone": "Asia/Urumqi"}, format="json")
    assert ok.status_code == 201


@pytest.mark.parametrize("name", ["王\u202e伟", "王\u200b伟", "王\x00伟", "王\x1b伟"])
def test_a_control_or_format_character_in_a_name_is_refused(writer, name):
    response = writer.post(reverse("api:customers"), {**CUSTOMER, "name": name}, format="json")
    assert errors(response) == [("name", name)]
    assert "invisible character U+" in response.json()["errors"][0]["message"]


def test_ordinary_whitespace_in_text_is_kept(writer):
    address = "北京市东城区\n示例大街 8 号\t2 单元"
    assert writer.post(reverse("api:customers"), {**CUSTOMER, "address": address}, format="json").status_code == 201
    assert Customer.objects.get().address == address


@pytest.mark.parametrize("number", ["RV/LINE", "CL 1", "合同-1", "..", "x" * 33, ""])
def test_a_line_number_outside_the_pattern_is_refused(writer, line_sent, number):
    response = writer.post(reverse("api:credit-lines"), {**line_sent, "number": number}, format="json")
    assert [field for field, _value in errors(response)] == ["number"]
    assert CreditLine.objects.filter(number="CL-IN-1").count() == 1


@pytest.mark.parametrize("opened_on", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_line_opened_in_the_future_or_before_the_floor_is_refused(writer, line_sent, opened_on):
    response = writer.post(
        reverse("api:credit-lines"), {**line_sent, "number": "CL-IN-2", "opened_on": opened_on}, format="json"
    )
    assert errors(response) == [("opened_on", opened_on)]
    assert not CreditLine.objects.filter(number="CL-IN-2").exists()


def test_a_line_sent_again_with_another_opening_date_is_refused_naming_both_dates(writer, line_sent):
    response = writer.post(reverse("api:credit-lines"), {**line_sent, "opened_on": "2025-07-01"}, format="json")
    assert errors(response) == [("opened_on", "2025-07-01")]
    assert "opened on 2025-06-01" in response.json()["errors"][0]["message"]
    assert CreditLine.objects.get(number="CL-IN-1").opened_on == datetime.date(2025, 6, 1)


@pytest.mark.parametrize("due_date", ["0001-01-01", "2025-05-31", "2055-06-02"])
def test_a_bill_due_before_its_line_opened_or_absurdly_far_out_is_refused(writer, line_sent, due_date):
    bill = {"due_date": due_date, "principal_due": "100.00"}
    response = writer.post(reverse("api:bills", args=["CL-IN-1"]), bill, format="json")
    assert errors(response) == [("due_date", due_date)]
    assert not Bill.objects.filter(credit_line__number="CL-IN-1").exists()


def test_a_bill_due_on_the_opening_day_or_thirty_years_on_is_taken(writer, line_sent):
    for due_date in ("2025-06-01", "2055-06-01"):
        bill = {"due_date": due_date, "principal_due": "100.00"}
        assert writer.post(reverse("api:bills", args=["CL-IN-1"]), bill, format="json").status_code == 201


def test_a_payment_received_in_the_future_or_before_its_line_opened_is_refused():
    line = overdue_line(due=datetime.date(2026, 1, 10))
    for received_at in (
        timezone.now() + datetime.timedelta(minutes=6),
        timezone.make_aware(datetime.datetime.combine(line.opened_on, datetime.time())) - datetime.timedelta(hours=1),
    ):
        with pytest.raises(ValidationError) as refused:
            payment_post(
                credit_line=line, external_reference="P-T", amount="1.00", channel="alipay", received_at=received_at
            )
        assert list(refused.value.message_dict) == ["received_at"]
    payment_post(
        credit_line=line,
        external_reference="P-SKEW",
        amount="1.00",
        channel="alipay",
        received_at=timezone.now() + datetime.timedelta(minutes=4),
    )


@pytest.mark.parametrize("value", ["2026-03-02", "2026-03-02T14:30:00", "2026-03-02 14:30", "１2026-03-02T14:30Z"])
def test_a_strict_date_time_without_a_time_or_an_offset_is_refused(value):
    field = StrictDateTimeField()
    with pytest.raises(Exception, match="with its offset") as refused:
        field.run_validation(value)
    assert str(refused.value.detail[0]).startswith(f"Send {value!r} as a date and time with its offset")


@pytest.mark.parametrize("value", ["2026-03-02T14:30:00+08:00", "2026-03-02T06:30:00Z", "2026-03-02 14:30+0800"])
def test_a_strict_date_time_with_an_offset_is_read_as_that_instant(value):
    read = StrictDateTimeField().run_validation(value)
    assert read == datetime.datetime(2026, 3, 2, 6, 30, tzinfo=datetime.UTC)
