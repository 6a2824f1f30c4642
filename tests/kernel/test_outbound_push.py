"""App push through the lender's push service: signed like our webhooks, through the webhooks' safe transport."""

import json
from datetime import UTC, datetime

import pytest
import time_machine

from backoffice.kernel.outbound import Outgoing, SendFailed, send


def push(**overrides) -> Outgoing:
    fields = {
        "channel": "push",
        "reference": "M000000042",
        "to": "BT-2026-000123",
        "language": "zh-hans",
        "subject": "还款提醒",
        "text": "您的账单已逾期 3 天，请尽快还款。",
    }
    return Outgoing(**{**fields, **overrides})


def test_a_push_is_signed_and_the_service_verifies_it(push_service):
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), tick=False):
        accepted = send(push())

    assert push_service.refused_signatures == 0
    assert push_service.received == [
        {
            "id": "M000000042",
            "recipient": "BT-2026-000123",
            "language": "zh-hans",
            "title": "还款提醒",
            "body": "您的账单已逾期 3 天，请尽快还款。",
            "sent_at": "2026-03-02T01:00:00+00:00",
        }
    ]
    (headers,) = push_service.headers
    assert headers["X-Message-Id"] == "M000000042"
    assert headers["X-Signature"].startswith("t=1772413200,v1=")
    assert (accepted.provider, accepted.provider_message_id) == ("push", "push-0001")


def test_a_push_signed_with_another_secret_is_refused_by_the_service(push_service, settings):
    settings.PUSH_SIGNING_SECRET = "another-secret"

    with pytest.raises(SendFailed) as failure:
        send(push())

    assert push_service.refused_signatures == 1
    assert push_service.received == []
    assert failure.value.code == "http_401"


def test_an_answer_without_an_id_is_accepted_under_our_reference(push_service):
    push_service.answer = b"accepted"

    assert send(push()).provider_message_id == "M000000042"


def test_a_numeric_id_in_the_answer_is_kept_as_text(push_service):
    push_service.answer = json.dumps({"id": 731, "status": "queued"}).encode()

    assert send(push()).provider_message_id == "731"


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (404, True), (410, True), (408, False), (429, False), (500, False), (503, False), (302, False)],
)
def test_client_errors_are_permanent_except_timeouts_and_rate_limits(push_service, status, permanent):
    push_service.status, push_service.answer = status, b'{"error": "no"}'

    with pytest.raises(SendFailed) as failure:
        send(push())

    assert (failure.value.code, failure.value.permanent) == (f"http_{status}", permanent)


def test_a_push_service_that_is_down_is_a_temporary_failure(push_service):
    push_service.stop()

    with pytest.raises(SendFailed) as failure:
        send(push())

    assert (failure.value.code, failure.value.permanent) == ("connection", False)


def test_the_push_service_must_be_at_an_allowed_address(push_service, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []

    with pytest.raises(SendFailed) as failure:
        send(push())

    assert "loopback" in str(failure.value)
    assert failure.value.permanent is False
    assert push_service.received == []
