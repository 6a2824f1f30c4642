"""Reversals through the API: all or nothing, replayed once, and the line's case brought up to date the same day."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.choices import CreditLineStatus
from accounts.models import CreditLine, Payment
from accounts.services import payment_post, payment_reverse
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.events import Event, EventType
from backoffice.kernel.roles import SUPERVISOR
from cases.casework.selectors import case_timeline
from cases.choices import PromiseStatus, ProposalKind, ProposalStatus, Stage
from cases.dunning.services import case_apply_dunning
from cases.models import Case, CaseTransition, Promise
from cases.promises.services import promise_record
from cases.settlements.services import proposal_approve, proposal_submit, settlements_complete
from tests.factories import BillFactory, overdue_line, user_in

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 3, 20)  # 69 days past due: legal recovery under the standard policy
CST = datetime.timezone(datetime.timedelta(hours=8))
# The reversals are recorded set-wise and their lines' cases refreshed set-wise: a fixed number of
# statements whatever the number of rows (measured 36 to 40 on SQLite and PostgreSQL, where one
# reversal at a time took 49 for one row and 418 for ten).
QUERIES_PER_REQUEST = 40


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=CST), tick=False):
        yield


@pytest.fixture
def writer(machine):
    return machine(Scope.LEDGER_WRITE)


def pay(line, amount, reference):
    return payment_post(
        credit_line=line,
        external_reference=reference,
        amount=amount,
        channel="alipay",
        received_at=datetime.datetime(2026, 3, 20, 9, tzinfo=CST),
    )


def pay_through_the_api(api, line, amount, reference):
    row = {
        "credit_line": line.number,
        "external_reference": reference,
        "amount": amount,
        "channel": "alipay",
        "received_at": "2026-03-20T09:00:00+08:00",
    }
    response = api.post(reverse("api:payments"), row, format="json")
    assert response.status_code == 201, response.json()


def reversal(payment, reference, **extra):
    return {
        "payment": payment,
        "external_reference": reference,
        "reason": "bounced",
        "reversed_at": "2026-03-20T09:30:00+08:00",
        **extra,
    }


def error_fields(response) -> list[tuple]:
    return [(error["index"], error["field"], error["value"]) for error in response.json()["errors"]]


def test_a_reversal_opens_a_new_case_the_same_day_as_the_one_case_path_would_and_the_old_case_stays_resolved(
    writer, run_dunning
):
    bounced, twin = overdue_line(due=DUE), overdue_line(due=DUE)
    run_dunning(TODAY - datetime.timedelta(days=1))
    pay_through_the_api(writer, bounced, "1000.00", "FULL-1")
    resolved = Case.objects.get(credit_line=bounced)
    assert resolved.stage == Stage.RESOLVED
    response = writer.post(
        reverse("api:payment-reversals"), reversal("FULL-1", "REV-1", note="余额不足"), format="json"
    )
    assert response.status_code == 201
    assert response.json() == {
        "id": Payment.objects.get(external_reference="REV-1").pk,
        "credit_line": bounced.number,
        "payment": "FULL-1",
        "external_reference": "REV-1",
        "amount": "-1000.00",
        "reason": "bounced",
        "replayed": False,
    }
    # The twin is paid, resolved and reversed in the ledger alone, and taken through the one-case path.
    payment = pay(twin, "1000.00", "FULL-2")
    case_apply_dunning(credit_line=CreditLine.objects.get(pk=twin.pk), as_of=TODAY)
    payment_reverse(
        payment=payment,
        external_reference="REV-2",
        reason="bounced",
        reversed_at=datetime.datetime(2026, 3, 20, 9, 30, tzinfo=CST),
        actor=None,
    )
    case_apply_dunning(credit_line=CreditLine.objects.get(pk=twin.pk), as_of=TODAY)

    def outcome(line):
        case = Case.objects.open().get(credit_line=line)
        edges = list(CaseTransition.objects.filter(case=case).order_by("id").values_list("from_stage", "to_stage"))
        return case.stage, case.balance_fen, case.days_past_due, edges, CreditLine.objects.get(pk=line.pk).status

    assert outcome(bounced) == outcome(twin)
    assert outcome(bounced)[:3] == (Stage.LEGAL, 100_000, 69)
    resolved.refresh_from_db()
    assert resolved.stage == Stage.RESOLVED
    assert Case.objects.filter(credit_line=bounced).count() == 2
    assert Case.objects.open().filter(credit_line=bounced).count() == 1
    reversed_event = Event.objects.get(type=EventType.PAYMENT_REVERSED, credit_line_id=bounced.pk)
    assert reversed_event.data["reversal"] == "REV-1"
    opened = Event.objects.filter(type=EventType.CASE_OPENED, credit_line_id=bounced.pk).order_by("id")
    assert opened.count() == 2


def test_a_reversal_of_the_payment_that_settled_a_case_leaves_it_settled_and_the_line_charged_off(
    writer, run_dunning, agent, supervisor
):
    line = overdue_line(due=DUE)
    run_dunning(TODAY - datetime.timedelta(days=1))
    case = Case.objects.with_customer().get(credit_line=line)
    proposal = proposal_submit(
        case=case, actor=agent, kind=ProposalKind.SETTLEMENT, reason="一次性结清", amount="500.00"
    )
    proposal_approve(proposal=proposal, actor=supervisor)
    pay(line, "500.00", "SETTLE-1")
    assert settlements_complete() == 1
    response = writer.post(reverse("api:payment-reversals"), reversal("SETTLE-1", "REV-1"), format="json")
    assert response.status_code == 201
    case.refresh_from_db()
    proposal.refresh_from_db()
    assert (case.stage, proposal.status) == (Stage.SETTLED, ProposalStatus.COMPLETED)
    assert CreditLine.objects.get(pk=line.pk).status == CreditLineStatus.CHARGED_OFF
    assert not Case.objects.open().filter(credit_line=line).exists()


def test_a_promise_kept_by_money_since_reversed_stays_kept_and_counts_as_broken_on_the_new_case_once(
    machine, writer, run_dunning, agent
):
    line = overdue_line(due=DUE)
    run_dunning(TODAY - datetime.timedelta(days=1))
    case = Case.objects.with_customer().get(credit_line=line)
    promise = promise_record(case=case, actor=agent, amount="1000.00", due_date=TODAY, today=TODAY)
    pay_through_the_api(writer, line, "1000.00", "PROMISED-1")
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT
    body = reversal("PROMISED-1", "REV-1")
    assert writer.post(reverse("api:payment-reversals"), body, format="json").status_code == 201
    assert writer.post(reverse("api:payment-reversals"), body, format="json").status_code == 200
    promise.refresh_from_db()
    assert (promise.status, promise.unkept_on) == (PromiseStatus.KEPT, TODAY)
    new_case = Case.objects.open().get(credit_line=line)
    assert new_case.pk != case.pk
    assert new_case.broken_promises == 1
    assert Case.objects.get(pk=case.pk).broken_promises == 0
    assert Promise.objects.get().case_id == case.pk


def test_a_bulk_of_reversals_is_all_or_nothing_and_names_every_bad_row(writer):
    line = overdue_line(due=DUE)
    pay(line, "100.00", "P-1")
    pay(line, "200.00", "P-2")
    rows = [
        reversal("P-1", "R-1"),
        reversal("P-NONE", "R-2"),
        reversal("P-1", "R-3"),  # P-1 is reversed by the first row
        reversal("P-2", "P-1"),  # a reference of another payment
    ]
    refused = writer.post(reverse("api:payment-reversals"), rows, format="json")
    assert refused.status_code == 400
    assert error_fields(refused) == [(1, "payment", "P-NONE"), (2, "payment", "P-1"), (3, "external_reference", "P-1")]
    assert "already reversed by 'R-1'" in refused.json()["errors"][1]["message"]
    assert Payment.objects.count() == 2
    assert not Event.objects.filter(type=EventType.PAYMENT_REVERSED).exists()
    accepted = writer.post(reverse("api:payment-reversals"), [rows[0]], format="json")
    replay = writer.post(reverse("api:payment-reversals"), [rows[0]], format="json")
    assert (accepted.status_code, accepted.json()[0]["replayed"]) == (201, False)
    assert (replay.status_code, replay.json()[0]["replayed"]) == (200, True)
    assert Payment.objects.count() == 3


def test_a_reversal_time_before_the_payment_or_in_the_future_is_refused_naming_the_value_as_sent(writer):
    line = overdue_line(due=DUE)
    pay(line, "100.00", "P-1")
    pay(line, "200.00", "P-2")
    rows = [
        reversal("P-1", "R-1", reversed_at="2026-03-20T08:59:59+08:00"),
        reversal("P-2", "R-2", reversed_at="2026-03-20T02:06:00Z"),  # 10:06 in Beijing, six minutes ahead
    ]
    refused = writer.post(reverse("api:payment-reversals"), rows, format="json")
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert [(error["index"], error["field"], error["value"], error["code"]) for error in errors] == [
        (0, "reversed_at", "2026-03-20T08:59:59+08:00", "invalid"),
        (1, "reversed_at", "2026-03-20T02:06:00Z", "future"),
    ]
    assert "before the payment was received" in errors[0]["message"]
    assert "in the future" in errors[1]["message"]
    assert Payment.objects.count() == 2


def test_a_malformed_row_is_named_by_its_index_field_and_value(writer):
    rows = [reversal("P-1", "R-1"), reversal("P-2", "R-2", reason="lost", reversed_at="yesterday")]
    response = writer.post(reverse("api:payment-reversals"), rows, format="json")
    assert response.status_code == 400
    assert error_fields(response) == [(1, "reason", "lost"), (1, "reversed_at", "yesterday")]


def test_more_than_a_thousand_reversals_in_one_request_are_refused(writer):
    response = writer.post(reverse("api:payment-reversals"), [{}] * 1001, format="json")
    assert (response.status_code, response.json()["errors"][0]["value"]) == (400, 1001)


def test_an_idempotency_key_replays_the_first_answer(writer):
    pay(overdue_line(due=DUE), "100.00", "P-1")
    url = reverse("api:payment-reversals")
    first = writer.post(url, reversal("P-1", "R-1"), format="json", HTTP_IDEMPOTENCY_KEY="rev-key-1")
    again = writer.post(url, reversal("P-1", "R-1"), format="json", HTTP_IDEMPOTENCY_KEY="rev-key-1")
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    other = writer.post(url, reversal("P-1", "R-2"), format="json", HTTP_IDEMPOTENCY_KEY="rev-key-1")
    assert other.status_code == 422


def test_only_a_client_with_ledger_write_reverses_and_a_persons_session_cannot(machine, client, root):
    pay(overdue_line(due=DUE), "100.00", "P-1")
    url, body = reverse("api:payment-reversals"), reversal("P-1", "R-1")
    for scopes in ([Scope.LEDGER_READ], [Scope.CASES_READ, Scope.EVENTS_READ]):
        assert machine(*scopes).post(url, body, format="json").status_code == 403
    assert APIClient().post(url, body, format="json").status_code == 401
    for person in (root, user_in(SUPERVISOR, "supervisor-rev")):
        client.force_login(person)
        assert client.post(url, body, content_type="application/json").status_code == 403
    assert Payment.objects.count() == 1


def test_a_bill_amended_below_what_was_paid_moves_the_excess_and_its_case_is_refreshed_the_same_day(
    writer, run_dunning
):
    line = overdue_line(due=DUE)
    BillFactory(credit_line=line, due_date=datetime.date(2026, 2, 10), interest_due_fen=0, fees_due_fen=0)
    run_dunning(TODAY - datetime.timedelta(days=1))
    pay(line, "600.00", "P-1")  # in the ledger alone: the case does not know yet
    url = reverse("api:bills", args=[line.number])
    body = {"due_date": "2026-01-10", "principal_due": "500.00", "reason": "本金更正"}
    response = writer.post(url, body, format="json")
    assert (response.status_code, response.json()["principal_paid"]) == (200, "500.00")
    case = Case.objects.open().get(credit_line=line)
    assert (case.balance_fen, case.days_past_due) == (90_000, 38)  # February's bill, less the 100.00 moved
    payment = Payment.objects.get()
    assert sum(row.total_fen for row in payment.allocations.all()) + payment.unallocated_fen == 60_000


@pytest.mark.parametrize("size", [1, 10])
def test_a_request_of_reversals_takes_a_fixed_number_of_statements(writer, size, django_assert_max_num_queries):
    lines = [overdue_line(due=DUE) for _ in range(size)]
    for n, line in enumerate(lines):
        pay(line, "100.00", f"P-{n}")
    rows = [reversal(f"P-{n}", f"R-{n}") for n in range(size)]
    with django_assert_max_num_queries(QUERIES_PER_REQUEST):
        assert writer.post(reverse("api:payment-reversals"), rows, format="json").status_code == 201


def test_a_request_of_a_hundred_reversals_takes_no_more_statements_than_one_of_ten(
    writer, run_dunning, django_assert_max_num_queries
):
    lines = [overdue_line(due=DUE if serial % 2 else TODAY - datetime.timedelta(days=1)) for serial in range(110)]
    run_dunning(TODAY - datetime.timedelta(days=2), batch_size=1000)
    payments = [
        {
            "credit_line": line.number,
            "external_reference": f"P-{serial}",
            "amount": "1000.00" if serial % 4 == 1 else "10.00",
            "channel": "alipay",
            "received_at": "2026-03-20T09:00:00+08:00",
        }
        for serial, line in enumerate(lines)
    ]
    assert writer.post(reverse("api:payments"), payments, format="json").status_code == 201
    resolved = Case.objects.filter(stage=Stage.RESOLVED).count()
    assert resolved == 110 // 4 + 1
    rows = [reversal(f"P-{serial}", f"R-{serial}") for serial in range(110)]
    with CaptureQueriesContext(connection) as ten:
        assert writer.post(reverse("api:payment-reversals"), rows[:10], format="json").status_code == 201
    with django_assert_max_num_queries(len(ten)):
        assert writer.post(reverse("api:payment-reversals"), rows[10:], format="json").status_code == 201
    with django_assert_max_num_queries(len(ten)):
        replay = writer.post(reverse("api:payment-reversals"), rows[10:], format="json")
    assert (replay.status_code, all(row["replayed"] for row in replay.json())) == (200, True)
    assert len(ten) <= QUERIES_PER_REQUEST
    # Every line paid in full is overdue again: a new case is open on it, the resolved one stays resolved.
    assert Case.objects.filter(stage=Stage.RESOLVED).count() == resolved
    assert Case.objects.open().count() == 110
    assert Event.objects.filter(type=EventType.PAYMENT_REVERSED).count() == 110


def test_the_case_timeline_shows_the_reversal_with_its_reason_and_note(writer, run_dunning):
    line = overdue_line(due=DUE)
    run_dunning(TODAY - datetime.timedelta(days=1))
    pay(line, "100.00", "P-1")
    writer.post(reverse("api:payment-reversals"), reversal("P-1", "R-1", note="余额不足"), format="json")
    payments = [event for event in case_timeline(Case.objects.open().get(credit_line=line)) if event.kind == "payment"]
    assert [(event.title, event.detail) for event in payments] == [
        ("Payment of ¥100.00 reversed: Bounced", "Alipay · R-1 · 余额不足"),
        ("Payment of ¥100.00 received", "Alipay · P-1"),
    ]


def test_an_unknown_field_or_a_time_without_its_offset_refuses_the_reversals_and_the_payments(writer):
    line = overdue_line(due=datetime.date(2026, 2, 1))
    sent = [
        reversal("P-1", "R-1", reverse_at="2026-03-20T09:30:00+08:00"),
        reversal("P-2", "R-2", reversed_at="2026-03-20T09:30:00"),
    ]
    response = writer.post(reverse("api:payment-reversals"), sent, format="json")
    assert response.status_code == 400
    assert [(index, field) for index, field, _value in error_fields(response)] == [
        (0, "reverse_at"),
        (1, "reversed_at"),
    ]
    payment = {
        "credit_line": line.number,
        "external_reference": "P-9",
        "amount": "10.00",
        "channel": "alipay",
        "received_at": "2026-03-20",
        "recieved": "typo",
    }
    response = writer.post(reverse("api:payments"), payment, format="json")
    assert response.status_code == 400
    assert [field for _index, field, _value in error_fields(response)] == ["recieved"]
    del payment["recieved"]
    response = writer.post(reverse("api:payments"), payment, format="json")
    assert response.status_code == 400
    assert error_fields(response) == [(0, "received_at", "2026-03-20")]
    assert not Payment.objects.exists()


def test_an_unknown_field_that_looks_like_a_number_is_named_as_a_field_not_taken_for_a_row(writer):
    # "²".isdigit() is true in Python: the fuzzer's field "²" was once read as row number "²", a server error.
    sent = [{**reversal("P-1", "R-1"), "²": 1}, {**reversal("P-2", "R-2"), "7": 1}]
    response = writer.post(reverse("api:payment-reversals"), sent, format="json")
    assert response.status_code == 400
    assert [(index, field) for index, field, _value in error_fields(response)] == [(0, "²"), (1, "7")]
