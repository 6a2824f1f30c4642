"""``Idempotency-Key`` on the API's POSTs: a retry gets the first answer, never a second write."""

import datetime
import io
import threading
import time

import pytest
import time_machine
from django.core.management import call_command
from django.db import connections, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.models import CreditLine, Customer, Payment
from backoffice.kernel.api.idempotency import IdempotencyKey, IdempotentPost
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

CUSTOMER = {"national_id": "110101199003074514", "name": "王伟", "mobile": "13812345678"}


@pytest.fixture
def machine(root):
    """An authenticated API client of the lending system named ``name``, with ``ledger:write``."""

    def make(name: str = "core") -> APIClient:
        _client, token = api_client_create(name=name, scopes=[Scope.LEDGER_WRITE], actor=root)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return api

    return make


def post(api: APIClient, body: dict, key: str, url: str = "") -> object:
    return api.post(url or reverse("api:customers"), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def header_error(response) -> tuple:
    (error,) = response.json()["errors"]
    return error["field"], error["value"], error["code"]


def test_a_replay_returns_the_first_response_with_the_header_and_writes_nothing_new(machine):
    api = machine()
    first = post(api, CUSTOMER, "7f0c1e9a-key-1")
    replay = post(api, CUSTOMER, "7f0c1e9a-key-1")
    assert first.status_code == replay.status_code == 201  # without the key, the second would be an update (200)
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1
    assert Customer.objects.get().history.count() == 1


def test_the_same_key_with_another_body_is_a_422_naming_the_header(machine):
    api = machine()
    post(api, CUSTOMER, "key-2")
    reused = post(api, {**CUSTOMER, "mobile": "13987654321"}, "key-2")
    assert reused.status_code == 422
    assert header_error(reused) == ("Idempotency-Key", "key-2", "idempotency_key_reused")
    assert Customer.objects.get().mobile == "13812345678"


@pytest.mark.parametrize("key", ["", "x" * 256, "带中文的键", "two words"])
def test_a_key_that_is_empty_too_long_or_not_printable_ascii_is_a_400_naming_the_header(machine, key):
    refused = machine().post(
        reverse("api:customers"), CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1")
    )
    assert refused.status_code == 400
    assert header_error(refused)[0::2] == ("Idempotency-Key", "invalid")
    assert not Customer.objects.exists()


def test_a_key_of_255_printable_characters_is_taken(machine):
    assert post(machine(), CUSTOMER, "~" * 255).status_code == 201


def test_keys_belong_to_their_client_so_the_same_key_from_two_clients_is_two_requests(machine):
    core, telephony = machine("core"), machine("other")
    first = post(core, CUSTOMER, "shared-key")
    second = post(telephony, {**CUSTOMER, "national_id": "110101199003070011"}, "shared-key")
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second
    assert Customer.objects.count() == 2


def test_a_refusal_is_kept_and_replayed_like_any_first_answer(machine):
    api = machine()
    bad = {**CUSTOMER, "mobile": "12"}
    first, replay = post(api, bad, "key-bad"), post(api, bad, "key-bad")
    assert first.status_code == replay.status_code == 400
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"


def test_an_expired_key_is_ignored_and_purged(machine):
    api = machine()
    with time_machine.travel(timezone.now() - datetime.timedelta(hours=25)):
        post(api, CUSTOMER, "old-key")
        post(api, {**CUSTOMER, "national_id": "110101199003070011"}, "older-key")
    post(api, {**CUSTOMER, "national_id": "110101199003070038"}, "fresh-key")
    again = post(api, {**CUSTOMER, "mobile": "13987654321"}, "old-key")
    assert again.status_code == 200  # an update, not a 422 for the old body
    assert "Idempotent-Replayed" not in again
    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "1 expired idempotency keys deleted." in out.getvalue()
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh-key", "old-key"]


def test_the_expiry_is_a_setting(machine, settings):
    settings.API_IDEMPOTENCY_HOURS = 48
    api = machine()
    with time_machine.travel(timezone.now() - datetime.timedelta(hours=25)):
        post(api, CUSTOMER, "kept-key")
    assert post(api, CUSTOMER, "kept-key")["Idempotent-Replayed"] == "true"


class Failing(IdempotentPost, APIView):
    """A POST that fails with a server error, as a bug or a lost database would."""

    write_scope = Scope.LEDGER_WRITE

    def post(self, request):
        raise RuntimeError("the work failed")


def test_a_request_that_fails_gives_its_key_back_so_a_retry_can_proceed(root):
    client, token = api_client_create(name="core", scopes=[Scope.LEDGER_WRITE], actor=root)
    request = APIRequestFactory().post(
        "/api/v1/x/", {"a": 1}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="k"
    )
    with pytest.raises(RuntimeError):
        Failing.as_view()(request)
    assert not IdempotencyKey.objects.filter(client=client).exists()


def test_a_request_without_a_key_stores_nothing(machine):
    machine().post(reverse("api:customers"), CUSTOMER, format="json")
    assert not IdempotencyKey.objects.exists()


def _api_views_that_post(resolver: URLResolver | None = None):
    for pattern in (resolver or get_resolver("backoffice.api.urls")).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views_that_post(pattern)
        elif isinstance(pattern, URLPattern) and hasattr(getattr(pattern.callback, "cls", None), "post"):
            yield pattern.callback.cls


def test_every_post_of_the_api_takes_the_key():
    views = list(_api_views_that_post())
    assert len(views) >= 4
    assert [view.__name__ for view in views if not issubclass(view, IdempotentPost)] == []


def test_the_schema_documents_the_header_and_the_409_and_422_on_every_post(client, root):
    client.force_login(root)
    paths = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    posts = [operations["post"] for operations in paths.values() if "post" in operations]
    assert len(posts) >= 4
    for operation in posts:
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert {"409", "422"} <= set(operation["responses"])
    gets = [operations["get"] for operations in paths.values() if "get" in operations]
    assert all("409" not in operation["responses"] for operation in gets)


@pytest.mark.django_db(transaction=True)
def test_a_second_request_while_the_first_is_in_flight_is_a_409_and_the_first_completes(
    on_postgres, shipped_data, root
):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    _client, token = api_client_create(name="core", scopes=[Scope.LEDGER_WRITE], actor=root)
    payment = {
        "credit_line": line.number,
        "external_reference": "PAY-IN-FLIGHT",
        "amount": "100.00",
        "channel": "alipay",
        "received_at": "2026-01-11T10:00:00+08:00",
    }
    answers: dict[str, object] = {}

    def send(name: str) -> None:
        try:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            answers[name] = post(api, payment, "pay-key", reverse("api:payments"))
        finally:
            connections.close_all()

    first = threading.Thread(target=send, args=("first",))
    with transaction.atomic():
        # Hold the line, as a long first request would: the first request claims its key, then waits here.
        CreditLine.objects.select_for_update().get(pk=line.pk)
        first.start()
        deadline = time.monotonic() + 20
        while not IdempotencyKey.objects.filter(key="pay-key").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = threading.Thread(target=send, args=("second",))
        second.start()
        second.join(20)
    first.join(20)
    assert answers["second"].status_code == 409
    assert header_error(answers["second"])[::2] == ("Idempotency-Key", "idempotency_key_in_flight")
    assert answers["first"].status_code == 201
    replay = post(_api(token), payment, "pay-key", reverse("api:payments"))
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert replay.json() == answers["first"].json()
    assert Payment.objects.filter(external_reference="PAY-IN-FLIGHT").count() == 1


def _api(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_an_answer_that_echoes_a_nul_character_is_kept_and_replayed(machine):
    api = machine()
    sent = {**CUSTOMER, "name": "王\x00伟"}
    first, replay = post(api, sent, "key-nul"), post(api, sent, "key-nul")
    assert first.status_code == replay.status_code == 400
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
