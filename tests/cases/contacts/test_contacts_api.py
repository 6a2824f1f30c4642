"""Contacts from telephony through the API: the import's rules, all or nothing, incidents for breaches."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.test import APIClient

from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.roles import AGENCY, AGENT
from cases.models import Case, ComplianceIncident, Contact
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 1))
    return Case.objects.get(credit_line=line)


@pytest.fixture
def telephony(db):
    """An API client with ``scopes`` (default ``contacts:write``), and its authenticated API."""

    def make(*scopes: str):
        root = User.objects.create_superuser(f"root-{len(scopes)}", password="pw-123456")
        client, token = api_client_create(
            name=f"telephony-{len(scopes)}", scopes=list(scopes or [Scope.CONTACTS_WRITE]), actor=root
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client, api

    return make


def call(case, at: str, **fields) -> dict:
    return {"case": case.number, "occurred_at": at, "channel": "call", "outcome": "connected", **fields}


def test_the_contacts_are_all_stored_as_imported_by_the_client_and_a_call_at_23_00_opens_an_incident(
    case, agent, telephony
):
    client, api = telephony()
    rows = [
        call(
            case, "2026-03-02T09:00:00+08:00", agent=agent.username, identity_disclosed=True, recording_reference="R1"
        ),
        call(case, "2026-03-02T23:00:00+08:00", identity_disclosed=True, recording_reference="R2"),
        {**call(case, "2026-03-02T10:00:00+08:00", identity_disclosed=True), "case": case.credit_line.number},
    ]
    response = api.post(reverse("api:contacts"), rows, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(row["index"], row["incidents"]) for row in body["contacts"]] == [
        (0, []),
        (1, ["CONTACT_OUTSIDE_WINDOW"]),
        (2, []),
    ]
    assert body["incidents"] == {"CONTACT_OUTSIDE_WINDOW": 1}
    contacts = Contact.objects.filter(case=case)
    assert sorted(contacts.values_list("id", flat=True)) == sorted(row["id"] for row in body["contacts"])
    assert set(contacts.values_list("source", "imported_by")) == {("imported", client.user_id)}
    assert contacts.get(recording_reference="R1").agent == agent
    late = contacts.get(recording_reference="R2")
    assert list(late.incidents.values_list("rule", flat=True)) == ["CONTACT_OUTSIDE_WINDOW"]


def test_one_bad_row_refuses_the_whole_request_naming_every_bad_row(case, telephony):
    _client, api = telephony()
    rows = [
        call(case, "2026-03-02T09:00:00+08:00"),
        call(case, "2026-03-02T09:05:00+08:00", channel="fax"),
        {**call(case, "2026-03-02T09:10:00+08:00"), "case": "C99999999"},
        call(case, "2026-03-02T09:15:00+08:00", agent="nobody"),
    ]
    response = api.post(reverse("api:contacts"), rows, format="json")
    assert response.status_code == 400
    named = {(error["index"], error["field"], error["value"]) for error in response.json()["errors"]}
    assert named == {(1, "channel", "fax"), (2, "case", "C99999999"), (3, "agent", "nobody")}
    assert not Contact.objects.exists()
    assert not ComplianceIncident.objects.exists()


def test_a_row_missing_a_required_field_or_a_contact_sent_twice_is_named(case, telephony):
    _client, api = telephony()
    missing = api.post(reverse("api:contacts"), [{"case": case.number, "channel": "call"}], format="json")
    assert missing.status_code == 400
    assert {(error["index"], error["field"]) for error in missing.json()["errors"]} == {
        (0, "occurred_at"),
        (0, "outcome"),
    }
    twice = [call(case, "2026-03-02T09:00:00+08:00")] * 2
    repeated = api.post(reverse("api:contacts"), twice, format="json")
    assert [(error["index"], error["message"]) for error in repeated.json()["errors"]] == [(1, "repeats row 0.")]
    assert not Contact.objects.exists()


def test_more_than_a_thousand_contacts_or_no_list_are_refused(case, telephony):
    _client, api = telephony()
    too_many = api.post(reverse("api:contacts"), [call(case, "2026-03-02T09:00:00+08:00")] * 1001, format="json")
    assert (too_many.status_code, too_many.json()["errors"][0]["code"]) == (400, "size")
    assert api.post(reverse("api:contacts"), {"case": case.number}, format="json").status_code == 400


def test_sending_contacts_needs_the_contacts_write_scope(case, telephony):
    _client, api = telephony(Scope.CASES_READ, Scope.LEDGER_WRITE)
    response = api.post(reverse("api:contacts"), [call(case, "2026-03-02T09:00:00+08:00")], format="json")
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_a_retried_request_with_its_key_stores_the_contacts_once(case, telephony):
    _client, api = telephony()
    rows = [call(case, "2026-03-02T09:00:00+08:00")]
    first = api.post(reverse("api:contacts"), rows, format="json", HTTP_IDEMPOTENCY_KEY="calls-0302")
    again = api.post(reverse("api:contacts"), rows, format="json", HTTP_IDEMPOTENCY_KEY="calls-0302")
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert Contact.objects.count() == 1


def test_a_hundred_contacts_take_a_bounded_number_of_queries(case, telephony, django_assert_max_num_queries):
    _client, api = telephony()
    rows = [call(case, f"2026-03-{day:02d}T10:{minute:02d}:00+08:00") for day in (2, 3, 4, 5) for minute in range(25)]
    with django_assert_max_num_queries(1500):
        assert api.post(reverse("api:contacts"), rows, format="json").status_code == 201


def test_an_unknown_field_or_a_time_without_its_offset_refuses_the_request_naming_row_and_field(case, telephony):
    _client, api = telephony()
    rows = [
        call(case, "2026-03-02T09:00:00+08:00", recording_referense="R1"),
        call(case, "2026-03-02T09:30:00"),
        call(case, "2026-03-02"),
    ]
    response = api.post(reverse("api:contacts"), rows, format="json")
    assert response.status_code == 400
    assert [(e["index"], e["field"], e["value"]) for e in response.json()["errors"]] == [
        (0, "recording_referense", "R1"),
        (1, "occurred_at", "2026-03-02T09:30:00"),
        (2, "occurred_at", "2026-03-02"),
    ]
    assert not Contact.objects.exists()


def test_a_number_is_stored_as_dialled_within_the_mainland_however_it_is_written(case, telephony):
    _client, api = telephony()
    written = ["+86 138 0013 8000", "0086-138-0013-8000", "010-62345678", "+86 (0)10 6234 5678", "0755 8765 4321"]
    rows = [
        call(case, f"2026-03-02T09:{minute:02d}:00+08:00", phone_number=number, outcome="no_answer")
        for minute, number in enumerate(written)
    ]
    response = api.post(reverse("api:contacts"), rows, format="json")
    assert response.status_code == 201, response.json()
    stored = Contact.objects.filter(case=case).order_by("occurred_at").values_list("phone_number", flat=True)
    assert list(stored) == ["13800138000", "13800138000", "01062345678", "01062345678", "075587654321"]


@pytest.mark.parametrize(
    "number",
    [
        "1" * 30,  # longer than the column: refused as a number, never a database error
        "12345",
        "1380013800",  # a digit short
        "+852 9123 4567",  # Hong Kong
        "400-812-3123",  # a service number, not one a customer answers
        "010-62345678 ext. 12",
    ],
)
def test_a_number_that_is_no_mainland_mobile_or_fixed_line_refuses_the_request_naming_row_field_and_value(
    case, telephony, number
):
    _client, api = telephony(Scope.CONTACTS_WRITE, Scope.PERSONAL_DATA_READ)
    rows = [call(case, "2026-03-02T09:00:00+08:00"), call(case, "2026-03-02T09:05:00+08:00", phone_number=number)]
    response = api.post(reverse("api:contacts"), rows, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["index"], error["field"], error["value"], error["code"]) == (1, "phone_number", number, "invalid")
    assert number in error["message"]
    assert not Contact.objects.exists()


def test_a_call_written_with_another_form_of_its_number_counts_against_the_daily_attempt_cap_and_as_sent_twice(
    case, telephony
):
    _client, api = telephony()
    forms_of_one_number = ["13800138000", "138-0013-8000", "+8613800138000", "+86 138 0013 8000", "8613800138000"]
    rows = [
        call(case, f"2026-03-02T09:{minute:02d}:00+08:00", outcome="no_answer", phone_number=number)
        for minute, number in enumerate([*forms_of_one_number, "138 0013 8000", "0086 13800138000"])
    ]
    response = api.post(reverse("api:contacts"), rows, format="json")
    assert response.status_code == 201, response.json()
    assert [row["incidents"] for row in response.json()["contacts"]] == [[]] * 6 + [["DAILY_ATTEMPT_CAP"]]
    again = api.post(
        reverse("api:contacts"),
        [call(case, "2026-03-02T09:00:00+08:00", outcome="no_answer", phone_number="+86 138-0013-8000")],
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["message"].startswith("is already stored")
    assert Contact.objects.count() == 7


def test_an_agent_who_has_left_is_named_and_a_user_who_works_no_cases_is_refused(case, telephony, legal):
    departed = user_in(AGENT, "agent-left")
    departed.is_active = False
    departed.save()
    collector = user_in(AGENCY, "agency-c")
    User.objects.create_user("a-customer", password="pw-123456")  # no back-office login
    service_client, api = telephony()
    rows = [
        call(case, "2026-03-02T09:00:00+08:00", agent="agent-left", recording_reference="R1"),
        call(case, "2026-03-02T09:05:00+08:00", agent="agency-c", recording_reference="R2"),
        call(case, "2026-03-02T09:10:00+08:00", agent=legal.username),
        call(case, "2026-03-02T09:15:00+08:00", agent="a-customer"),
        call(case, "2026-03-02T09:20:00+08:00", agent=service_client.user.username),
    ]
    refused = api.post(reverse("api:contacts"), rows, format="json")
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert [(error["index"], error["field"], error["value"]) for error in errors] == [
        (2, "agent", legal.username),
        (3, "agent", "a-customer"),
        (4, "agent", service_client.user.username),
    ]
    assert errors[0]["message"] == (
        "not a back-office user who may log contacts (a collection agent, agency agent or supervisor)."
    )
    stored = api.post(reverse("api:contacts"), rows[:2], format="json")
    assert stored.status_code == 201, stored.json()
    agents = dict(Contact.objects.values_list("recording_reference", "agent"))
    assert agents == {"R1": departed.pk, "R2": collector.pk}
