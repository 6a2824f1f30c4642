"""The API kit refuses crafted input in its one error format, never with a server error, an HTML page or a redirect."""

import base64
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as project_settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from backoffice.api.payments import MAX_ROWS as PAYMENT_ROWS
from backoffice.api.payments import PaymentIn
from backoffice.kernel.api.auth import AddressRateThrottle
from backoffice.kernel.api.idempotency import IdempotencyKey, IdempotentPost
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.events import Event, EventType, events_publish
from cases.contacts.api import MAX_ROWS as CONTACT_ROWS
from cases.contacts.api import ContactIn
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003074514"
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def everything(machine):
    return machine(*Scope.values)


def only_error(response) -> dict:
    (error,) = response.json()["errors"]
    return error


def cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_deeply_nested_body_without_a_token_is_a_401_and_with_one_a_parse_error(everything):
    url = reverse("api:payments")
    anonymous = APIClient().post(url, DEEP, content_type="application/json")
    assert (anonymous.status_code, anonymous["Content-Type"]) == (401, "application/json")
    assert only_error(anonymous)["code"] == "not_authenticated"
    refused = everything.post(url, DEEP, content_type="application/json")
    assert (refused.status_code, only_error(refused)["code"]) == (400, "parse_error")


@pytest.mark.parametrize("text", ["p=abc", "p=1e5", "p=%00", "p=1.5&o=2"])
def test_a_crafted_cursor_is_a_400_naming_the_cursor(everything, text):
    sent = cursor(text)
    response = everything.get(reverse("api:cases"), {"cursor": sent})
    assert response.status_code == 400
    assert (only_error(response)["field"], only_error(response)["value"]) == ("cursor", sent)


def test_a_cursor_that_is_not_base64_is_the_same_400(everything):
    response = everything.get(reverse("api:letters"), {"cursor": "junk!"})
    assert (response.status_code, only_error(response)["field"], only_error(response)["value"]) == (
        400,
        "cursor",
        "junk!",
    )


def test_a_cursor_the_list_gave_out_still_pages(everything):
    customers = CustomerFactory.create_batch(3)
    first = everything.get(reverse("api:customers"), {"page_size": 2}).json()
    second = everything.get(first["next"]).json()
    assert [row["id"] for row in first["results"] + second["results"]] == [customer.pk for customer in customers]


def test_a_lone_surrogate_is_refused_naming_its_row_field_and_escaped_value(everything):
    body = '[{"credit_line":"CL1","external_reference":"RV-\\ud800","amount":"1.00"}]'
    response = everything.post(reverse("api:payments"), body, content_type="application/json")
    assert response.status_code == 400
    error = only_error(response)
    assert (error["index"], error["field"], error["value"]) == (0, "external_reference", "RV-\\ud800")


def test_a_lone_surrogate_in_a_personal_number_is_refused_and_its_key_is_not_kept(everything):
    body = '{"national_id":"\\udfff","name":"x","mobile":"13812345678"}'
    response = everything.post(
        reverse("api:customers"), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="surrogate-1"
    )
    assert (response.status_code, only_error(response)["field"]) == (400, "national_id")
    again = everything.post(
        reverse("api:customers"), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="surrogate-1"
    )
    assert again.status_code == 400  # the stored refusal, replayed; never a 409
    assert again["Idempotent-Replayed"] == "true"


def test_a_surrogate_pair_is_a_character_and_accepted(everything):
    body = '{"national_id":"' + ID_NUMBER + '","name":"\\ud842\\udfb7","mobile":"13812345678"}'
    assert everything.post(reverse("api:customers"), body, content_type="application/json").status_code == 201


class Unrenderable(IdempotentPost, APIView):
    """A POST whose answer cannot be written as UTF-8 (as a lone surrogate from a service would make)."""

    write_scope = Scope.LEDGER_WRITE

    def post(self, request):
        return Response({"name": "\ud800"}, status=201)


def test_a_request_whose_answer_cannot_be_stored_gives_its_key_back(root):
    client, token = api_client_create(name="core", scopes=[Scope.LEDGER_WRITE], actor=root)
    request = APIRequestFactory().post(
        "/api/v1/x/", {"a": 1}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="k"
    )
    with pytest.raises(UnicodeEncodeError):
        Unrenderable.as_view()(request)
    assert not IdempotencyKey.objects.filter(client=client).exists()


@pytest.mark.parametrize(
    ("query", "accept"), [({"format": "api"}, "application/json"), ({}, "text/html"), ({}, "text/html,*/*;q=0.8")]
)
def test_no_answer_is_an_html_page(everything, query, accept):
    response = everything.get(reverse("api:customers"), query, HTTP_ACCEPT=accept)
    assert response["Content-Type"] == "application/json"
    assert b"<html" not in response.content.lower()


def test_the_documentation_page_is_still_served(client):
    response = client.get(reverse("api:docs"))
    assert (response.status_code, response["Content-Type"].split(";")[0]) == (200, "text/html")


def _largest_body(serializer: type, rows: int) -> int:
    # Every text at its longest, each character sent as a JSON escape (6 bytes), plus the names and punctuation.
    row = {name: "x" * (getattr(field, "max_length", None) or 64) for name, field in serializer().fields.items()}
    return rows * (len(json.dumps(row)) + 5 * sum(len(text) for text in row.values()))


def test_the_size_ceiling_fits_the_largest_documented_request():
    largest = max(_largest_body(ContactIn, CONTACT_ROWS), _largest_body(PaymentIn, PAYMENT_ROWS))
    assert largest <= project_settings.API_MAX_REQUEST_BYTES < 2 * largest
    assert project_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == project_settings.API_MAX_REQUEST_BYTES


def test_three_megabytes_of_contacts_within_the_limits_are_read_and_checked(everything):
    rows = [
        {"case": "C99999999", "occurred_at": "2026-03-02T14:30:00+08:00", "channel": "call", "outcome": "connected"}
        | {"notes": "备" * 5000}
        for _ in range(600)
    ]
    body = json.dumps(rows, ensure_ascii=False).encode()
    assert len(body) > 2.5 * 1024 * 1024
    response = everything.post(reverse("api:contacts"), body, content_type="application/json")
    assert response.status_code == 400
    assert {error["index"] for error in response.json()["errors"]} == set(range(600))  # each row read, named


@pytest.mark.parametrize("key", [None, "over-size-1"])
def test_a_body_over_the_ceiling_is_a_413_in_the_error_format(everything, settings, key):
    settings.API_MAX_REQUEST_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = everything.post(reverse("api:contacts"), [{"notes": "x" * 2000}], format="json", **headers)
    assert (response.status_code, response["Content-Type"]) == (413, "application/json")
    assert only_error(response)["code"] == "too_large"


@pytest.mark.parametrize("name", ["customers", "events", "docs-missing"])
def test_every_api_answer_is_not_stored_by_caches_and_varies_by_credentials(everything, name):
    url = "/api/v1/no-such-place/" if name == "docs-missing" else reverse(f"api:{name}")
    response = everything.get(url)
    assert response["Cache-Control"] == "no-store"
    assert {"Authorization", "Cookie"} <= {part.strip() for part in response["Vary"].split(",")}


def test_a_client_whose_service_user_is_deactivated_is_refused(root):
    client, token = api_client_create(name="core", scopes=[Scope.LEDGER_READ], actor=root)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(reverse("api:customers")).status_code == 200
    User.objects.filter(pk=client.user_id).update(is_active=False)
    assert api.get(reverse("api:customers")).status_code == 401


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/cases/"),
        ("post", "/api/v1/letters/"),
        ("put", "/api/v1/customers/1/"),
        ("patch", "/api/v1/credit-lines/X/"),
        ("delete", "/api/v1/cases/1/"),
        ("get", "/api/v1/payments/"),
        ("get", "/api/v1/contacts/"),
    ],
)
def test_a_method_the_endpoint_does_not_take_is_a_405_in_the_error_format(everything, method, url):
    response = getattr(everything, method)(url, {}, format="json") if method != "get" else everything.get(url)
    assert (response.status_code, only_error(response)["code"]) == (405, "method_not_allowed")
    assert APIClient().generic(method.upper(), url).status_code == 401  # without credentials, still a 401


@pytest.mark.parametrize("debug", [False, True])
def test_an_address_without_its_trailing_slash_is_served_never_redirected(everything, settings, debug):
    settings.DEBUG = debug
    response = everything.post("/api/v1/payments", [{"credit_line": "nope"}], format="json")
    assert response.status_code == 400
    assert {error["index"] for error in response.json()["errors"]} == {0}
    assert everything.get("/api/v1/customers").status_code == 200


@pytest.mark.parametrize(
    ("name", "query", "field", "value"),
    [
        ("events", {"after": "abc"}, "after", "abc"),
        ("events", {"limit": "0"}, "limit", "0"),
        ("cases", {"dpd_min": "abc"}, "dpd_min", "abc"),
        ("cases", {"stage": "bogus"}, "stage", "bogus"),
        ("cases", {"dpd_max": "1e400"}, "dpd_max", "1e400"),
    ],
)
def test_a_bad_query_value_is_named_once_with_the_value_sent(everything, name, query, field, value):
    response = everything.get(reverse(f"api:{name}"), query)
    assert response.status_code == 400
    assert (only_error(response)["field"], only_error(response)["value"]) == (field, value)


def test_the_feed_asked_past_its_end_answers_with_its_real_last_place(everything):
    Event.objects.create(type=EventType.CASE_OPENED, occurred_at=timezone.now(), data={})
    events_publish()
    place = Event.objects.get().position
    response = everything.get(reverse("api:events"), {"after": 10**18})
    assert response.json() == {"events": [], "last": place}
    assert everything.get(reverse("api:events"), {"after": place}).json()["last"] == place


def test_requests_without_valid_credentials_are_throttled_by_address(monkeypatch, everything):
    monkeypatch.setattr(AddressRateThrottle, "THROTTLE_RATES", {"anonymous": "3/minute"})
    anonymous, guessing = APIClient(), APIClient()
    guessing.credentials(HTTP_AUTHORIZATION="Bearer bo_guessed")
    statuses = [anonymous.get(reverse("api:cases")).status_code for _ in range(2)]
    statuses += [guessing.get(reverse("api:cases")).status_code for _ in range(2)]
    assert statuses == [401, 401, 401, 429]
    refused = anonymous.get(reverse("api:cases"))
    assert (refused.status_code, only_error(refused)["code"], "Retry-After" in refused) == (429, "throttled", True)
    assert everything.get(reverse("api:cases")).status_code == 200  # a valid token is not held back by its address


def test_a_personal_number_is_masked_in_errors_and_the_stored_answer_unless_the_scope_allows_it(machine):
    bad = {"national_id": "110101199003074515", "name": "王伟", "mobile": "13812345678"}
    writer = machine(Scope.LEDGER_WRITE)
    refused = writer.post(reverse("api:customers"), bad, format="json", HTTP_IDEMPOTENCY_KEY="mask-1")
    error = only_error(refused)
    assert error["value"] == "**************4515"
    assert "110101199003074515" not in refused.content.decode()
    assert "110101199003074515" not in IdempotencyKey.objects.get().response_body
    full = machine(Scope.LEDGER_WRITE, Scope.PERSONAL_DATA_READ).post(reverse("api:customers"), bad, format="json")
    assert only_error(full)["value"] == "110101199003074515"


def test_a_phone_number_of_a_contact_row_is_masked_too(machine):
    row = {"case": "C1", "occurred_at": "x", "channel": "call", "outcome": "connected", "phone_number": "1" * 70}
    response = machine(Scope.CONTACTS_WRITE).post(reverse("api:contacts"), [row], format="json")
    (phone,) = [error for error in response.json()["errors"] if error["field"] == "phone_number"]
    assert phone["value"] == "*" * 66 + "1111"


def test_a_huge_value_is_echoed_cut_short(everything):
    row = {"credit_line": "L" * 1_000_000, "external_reference": "R1", "amount": "1.00", "channel": "alipay"}
    response = everything.post(
        reverse("api:payments"), [row | {"received_at": "2026-12-01T10:00:00+08:00"}], format="json"
    )
    assert response.status_code == 400
    (error,) = [error for error in response.json()["errors"] if error["field"] == "credit_line"]
    assert error["value"] == "L" * 200 + "…"
    assert len(response.content) < 2000
    assert ApiClient.objects.count() == 1


@pytest.mark.parametrize("module", ["errors", "parsers", "renderers", "echo", "idempotency", "pagination"])
def test_each_module_of_the_api_kit_imports_first_without_a_cycle(module):
    # DRF's APIView reads the parser and renderer settings when it is defined: they must not import it back.
    environment = {
        **os.environ,
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "MODULE": f"backoffice.kernel.api.{module}",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import os, django; django.setup(); __import__(os.environ['MODULE'])"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
