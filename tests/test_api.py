"""The lending system's API: clients and tokens, scopes, the ledger's upserts, payments with same-day truth, cases."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.choices import CreditLineStatus
from accounts.models import Bill, CreditLine, Customer, Payment
from accounts.services import payment_post
from backoffice.kernel.api.models import ApiClient, token_hash
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create, api_client_revoke, api_client_rotate
from cases.choices import Stage
from cases.dunning.services import case_apply_dunning
from cases.models import Case, CaseTransition
from cases.workload.services import case_assign
from letters.choices import LetterStatus
from letters.models import Letter, LetterTemplate
from letters.services import letter_approve, letter_draft
from tests.factories import law_firm_with_lawyer, overdue_line

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)
TODAY = datetime.date(2026, 3, 20)  # 69 days past due: legal recovery under the standard policy
ID_NUMBER = "110101199003074514"


def error_fields(response) -> list[tuple]:
    return [(error["index"], error["field"], error["value"]) for error in response.json()["errors"]]


def test_a_token_is_shown_once_stored_only_as_a_hash_and_stops_working_when_rotated_or_revoked(root):
    client, token = api_client_create(name="core", scopes=[Scope.LEDGER_READ], actor=root)
    assert token.startswith("bo_")
    assert len(token) > 40
    assert client.token_hash == token_hash(token)
    assert token not in str(ApiClient.objects.values().get())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(reverse("api:customers")).status_code == 200
    new = api_client_rotate(client=client, actor=root)
    assert api.get(reverse("api:customers")).status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {new}")
    assert api.get(reverse("api:customers")).status_code == 200
    api_client_revoke(client=client, actor=root)
    assert api.get(reverse("api:customers")).status_code == 401


def test_only_a_superuser_manages_clients_and_scopes_must_be_known(root, supervisor):
    with pytest.raises(Exception, match="Only a superuser"):
        api_client_create(name="x", scopes=[], actor=supervisor)
    with pytest.raises(Exception, match="Unknown scope 'ledger:everything'"):
        api_client_create(name="x", scopes=["ledger:everything"], actor=root)


def test_no_token_is_a_401_asking_for_a_bearer_and_http_basic_is_not_accepted(supervisor):
    anonymous = APIClient().get(reverse("api:customers"))
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Bearer"
    assert anonymous.json()["errors"][0]["code"] == "not_authenticated"
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic c3VwZXJ2aXNvci10OnB3LTEyMzQ1Ng==")  # supervisor-t:pw-123456
    assert basic.get(reverse("api:customers")).status_code == 401


def test_each_endpoint_needs_its_scope(machine):
    reader, writer, cases = machine(Scope.LEDGER_READ), machine(Scope.LEDGER_WRITE), machine(Scope.CASES_READ)
    body = {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13812345678"}
    assert reader.post(reverse("api:customers"), body, format="json").status_code == 403
    assert writer.post(reverse("api:customers"), body, format="json").status_code == 201
    assert writer.get(reverse("api:customers")).status_code == 403
    assert cases.get(reverse("api:customers")).status_code == 403
    assert cases.get(reverse("api:cases")).status_code == 200
    assert reader.get(reverse("api:cases")).status_code == 403


def test_a_customer_is_upserted_by_national_id_with_its_history_and_bad_fields_named(machine):
    writer = machine(Scope.LEDGER_WRITE)
    url = reverse("api:customers")
    first = writer.post(url, {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13812345678"}, format="json")
    again = writer.post(url, {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13987654321"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    customer = Customer.objects.get()
    assert customer.mobile == "13987654321"
    assert customer.history.first().history_user.api_client.scopes == [Scope.LEDGER_WRITE]
    bad = writer.post(url, {"national_id": "110101199003074515", "name": "王伟", "mobile": "12"}, format="json")
    assert bad.status_code == 400
    fields = {field: value for _index, field, value in error_fields(bad)}
    assert fields == {"national_id": "**************4515", "mobile": "**"}  # masked: no personal-data:read
    assert Customer.objects.count() == 1


def test_numbers_come_back_masked_unless_the_scope_grants_them(machine):
    machine(Scope.LEDGER_WRITE).post(
        reverse("api:customers"), {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13812345678"}, format="json"
    )
    masked = machine(Scope.LEDGER_READ).get(reverse("api:customers")).json()["results"][0]
    full = machine(Scope.LEDGER_READ, Scope.PERSONAL_DATA_READ).get(reverse("api:customers")).json()["results"][0]
    assert (masked["national_id"], masked["mobile"]) == ("110101********4514", "138****5678")
    assert (full["national_id"], full["mobile"]) == (ID_NUMBER, "13812345678")


def test_a_line_and_its_bills_are_upserted_and_an_amendment_needs_a_reason_and_paid_money_to_back_what_it_moves(
    machine,
):
    writer = machine(Scope.LEDGER_WRITE)
    writer.post(
        reverse("api:customers"), {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13812345678"}, format="json"
    )
    line = {
        "number": "CL-API-1",
        "customer_national_id": ID_NUMBER,
        "product": "p-standard",
        "limit": "5000.00",
        "opened_on": "2025-06-01",
    }
    assert writer.post(reverse("api:credit-lines"), line, format="json").status_code == 400  # no such product yet
    overdue_line(due=DUE)  # makes the p-standard product
    assert writer.post(reverse("api:credit-lines"), line, format="json").status_code == 201
    bills = reverse("api:bills", args=["CL-API-1"])
    bill = {"due_date": "2026-01-10", "principal_due": "1000.00", "interest_due": "12.50"}
    assert writer.post(bills, bill, format="json").status_code == 201
    amended = writer.post(bills, {**bill, "principal_due": "900.00"}, format="json")
    assert error_fields(amended) == [(None, "reason", None)]
    amended = writer.post(bills, {**bill, "principal_due": "900.00", "reason": "利息减免"}, format="json")
    assert (amended.status_code, amended.json()["principal_due"]) == (200, "900.00")
    stored = Bill.objects.get(credit_line__number="CL-API-1")
    assert (stored.principal_due_fen, stored.history.first().history_change_reason) == (90_000, "利息减免")
    # Paid figures with no allocations behind them: there is no payment to move the excess from.
    Bill.objects.filter(pk=stored.pk).update(principal_paid_fen=50_000)
    below = writer.post(bills, {**bill, "principal_due": "400.00", "reason": "更正"}, format="json")
    assert below.status_code == 400
    assert "below the ¥500.00 already paid" in below.json()["errors"][0]["message"]


def test_a_bulk_of_payments_is_all_or_nothing_and_names_every_bad_row(machine):
    lines = [overdue_line(due=DUE) for _ in range(2)]
    writer = machine(Scope.LEDGER_WRITE)
    rows = [
        {
            "credit_line": lines[0].number,
            "external_reference": "P-1",
            "amount": "10.00",
            "channel": "alipay",
            "received_at": "2026-03-20T10:00:00+08:00",
        },
        {
            "credit_line": "CL-NOBODY",
            "external_reference": "P-2",
            "amount": "10.00",
            "channel": "alipay",
            "received_at": "2026-03-20T10:00:00+08:00",
        },
        {
            "credit_line": lines[1].number,
            "external_reference": "P-3",
            "amount": "-5.00",
            "channel": "alipay",
            "received_at": "2026-03-20T10:00:00+08:00",
        },
    ]
    refused = writer.post(reverse("api:payments"), rows, format="json")
    assert refused.status_code == 400
    assert error_fields(refused) == [(1, "credit_line", "CL-NOBODY"), (2, "amount", "-5.00")]
    assert not Payment.objects.exists()
    accepted = writer.post(reverse("api:payments"), [rows[0]], format="json")
    replay = writer.post(reverse("api:payments"), [rows[0]], format="json")
    assert (accepted.status_code, accepted.json()[0]["replayed"]) == (201, False)
    assert (replay.status_code, replay.json()[0]["replayed"]) == (200, True)
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "other"),
    [("amount", "10.01"), ("channel", "wechat_pay"), ("received_at", "2026-03-20T10:00:01+08:00")],
)
def test_a_reference_sent_again_with_another_amount_channel_or_time_is_refused_not_replayed(machine, field, other):
    line = overdue_line(due=DUE)
    writer = machine(Scope.LEDGER_WRITE)
    row = {
        "credit_line": line.number,
        "external_reference": "P-1",
        "amount": "10.00",
        "channel": "alipay",
        "received_at": "2026-03-20T10:00:00+08:00",
    }
    assert writer.post(reverse("api:payments"), [row], format="json").status_code == 201
    # The same instant written in another offset is the same payment.
    same = writer.post(reverse("api:payments"), [{**row, "received_at": "2026-03-20T02:00:00Z"}], format="json")
    assert (same.status_code, same.json()[0]["replayed"]) == (200, True)
    again = writer.post(reverse("api:payments"), [{**row, field: other}], format="json")
    assert again.status_code == 400
    assert [(e["index"], e["field"], e["code"]) for e in again.json()["errors"]] == [
        (0, "external_reference", "reused")
    ]
    twice = writer.post(
        reverse("api:payments"),
        [{**row, "external_reference": "P-2"}, {**row, "external_reference": "P-2", field: other}],
        format="json",
    )
    assert [(e["index"], e["code"]) for e in twice.json()["errors"]] == [(1, "reused")]
    assert Payment.objects.count() == 1


def test_a_bad_row_of_a_bulk_request_is_named_by_its_index_field_and_value(machine):
    row = {
        "credit_line": "CL-1",
        "external_reference": "X",
        "amount": "1.50",
        "channel": "alipay",
        "received_at": "2026-12-01T10:00:00+08:00",
    }
    response = machine(Scope.LEDGER_WRITE).post(
        reverse("api:payments"), [row, {**row, "channel": "cash", "amount": 1.5}], format="json"
    )
    assert response.status_code == 400
    assert error_fields(response) == [(1, "amount", 1.5), (1, "channel", "cash")]
    assert "decimal strings" in response.json()["errors"][0]["message"]


def test_more_than_a_thousand_payments_in_one_request_are_refused(machine):
    response = machine(Scope.LEDGER_WRITE).post(reverse("api:payments"), [{}] * 1001, format="json")
    assert (response.status_code, response.json()["errors"][0]["value"]) == (400, 1001)


@time_machine.travel(
    datetime.datetime(2026, 3, 20, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=8))), tick=False
)
def test_a_payment_in_full_resolves_the_case_the_same_day_as_the_night_would(
    machine, run_dunning, legal, agent, supervisor
):
    paid, twin = overdue_line(due=DUE), overdue_line(due=DUE)
    run_dunning(TODAY - datetime.timedelta(days=1))
    law_firm_with_lawyer(legal)
    case = Case.objects.with_customer().get(credit_line=paid)
    case_assign(case=case, actor=supervisor, assignee=agent)
    letter = letter_draft(
        case=case,
        template=LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans"),
        actor=agent,
        render=False,
    )
    payment = {"amount": "1000.00", "channel": "alipay", "received_at": "2026-03-20T10:00:00+08:00"}
    response = machine(Scope.LEDGER_WRITE).post(
        reverse("api:payments"), {"credit_line": paid.number, "external_reference": "FULL-1", **payment}, format="json"
    )
    assert response.status_code == 201
    # The twin line is paid the same way in the ledger alone and taken through the night's own path.
    payment_post(
        credit_line=twin,
        external_reference="FULL-2",
        amount="1000.00",
        channel="alipay",
        received_at=Payment.objects.get().received_at,
    )
    case_apply_dunning(credit_line=CreditLine.objects.get(pk=twin.pk), as_of=TODAY)

    def outcome(line):
        case = Case.objects.get(credit_line=line)
        edges = list(CaseTransition.objects.filter(case=case).order_by("id").values_list("from_stage", "to_stage"))
        return case.stage, case.balance_fen, case.days_past_due, edges, CreditLine.objects.get(pk=line.pk).status

    assert outcome(paid) == outcome(twin)
    assert outcome(paid)[0] == Stage.RESOLVED
    assert CreditLine.objects.get(pk=paid.pk).status == CreditLineStatus.ACTIVE  # the freeze collections made is lifted
    letter.refresh_from_db()
    assert (letter.status, letter.cancellation_reason) == (
        LetterStatus.CANCELLED,
        "The case was paid in full before the letter was sent.",
    )


def test_cases_are_listed_filtered_in_cursor_pages_and_read_one_by_one(machine, run_dunning):
    lines = [overdue_line(due=DUE - datetime.timedelta(days=offset)) for offset in (0, 40, 80)]
    run_dunning(datetime.date(2026, 2, 20))
    reader = machine(Scope.CASES_READ)
    first = reader.get(reverse("api:cases"), {"page_size": 2}).json()
    assert [case["credit_line"] for case in first["results"]] == [lines[0].number, lines[1].number]
    assert "count" not in first
    rest = reader.get(first["next"]).json()
    assert [case["credit_line"] for case in rest["results"]] == [lines[2].number]
    legal = reader.get(reverse("api:cases"), {"stage": "legal", "dpd_min": 100}).json()["results"]
    assert [case["credit_line"] for case in legal] == [lines[2].number]  # 121 days past due; 81 is left out
    one = reader.get(reverse("api:case", args=[legal[0]["id"]])).json()
    assert one["overdue_now"]["total"] == "1000.00"
    assert [(t["from_stage"], t["to_stage"]) for t in one["transitions"]] == [
        ("reminder", "collection"),
        ("collection", "legal"),
    ]


def test_people_read_with_their_session_under_the_admins_rules(client, run_dunning, agent, supervisor):
    lines = [overdue_line(due=DUE) for _ in range(2)]
    run_dunning(TODAY)
    mine = Case.objects.with_customer().get(credit_line=lines[0])
    case_assign(case=mine, actor=supervisor, assignee=agent)
    client.force_login(agent)
    listed = client.get(reverse("api:cases")).json()["results"]
    assert [case["id"] for case in listed] == [mine.pk]
    customers = client.get(reverse("api:customers")).json()["results"]
    assert [customer["id"] for customer in customers] == [lines[0].customer_id]
    assert customers[0]["national_id"].count("*") == 8
    assert client.get(reverse("api:case", args=[Case.objects.get(credit_line=lines[1]).pk])).status_code == 404
    assert client.post(reverse("api:payments"), {}, content_type="application/json").status_code == 403
    client.force_login(supervisor)
    assert len(client.get(reverse("api:cases")).json()["results"]) == 2


def test_every_person_reads_numbers_masked_through_the_api_whatever_their_role(client, run_dunning, supervisor, legal):
    line = overdue_line(due=DUE)
    run_dunning(TODAY)
    root = User.objects.create_superuser("root-api", password="pw-123456")
    for person in (supervisor, legal, root):
        client.force_login(person)
        [customer] = client.get(reverse("api:customers")).json()["results"]
        assert customer["national_id"] == line.customer.masked_national_id, person
        assert customer["mobile"] == line.customer.masked_mobile, person


def test_the_schema_and_the_docs_are_served_from_the_product_itself(client):
    schema = client.get(reverse("api:schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/payments/", "/api/v1/customers/", "/api/v1/cases/"} <= set(paths)
    assert "400" in paths["/api/v1/payments/"]["post"]["responses"]
    docs = client.get(reverse("api:docs")).content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()


def test_the_schema_is_valid_openapi_without_a_single_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/letters/{number}/pdf/" in (tmp_path / "schema.yml").read_text()


def test_a_letter_is_read_by_letters_read_and_its_pdf_needs_personal_data_too(
    machine, run_dunning, legal, agent, django_capture_on_commit_callbacks
):
    line = overdue_line(due=DUE)
    run_dunning(TODAY)
    law_firm_with_lawyer(legal)
    case = Case.objects.with_customer().get(credit_line=line)
    with django_capture_on_commit_callbacks(execute=True):
        letter = letter_draft(
            case=case, template=LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans"), actor=agent
        )
    reader, full = machine(Scope.LETTERS_READ), machine(Scope.LETTERS_READ, Scope.PERSONAL_DATA_READ)
    listed = reader.get(reverse("api:letters"), {"status": "pending_approval"}).json()["results"]
    assert [(item["number"], item["case"]) for item in listed] == [(letter.number, case.pk)]
    assert reader.get(reverse("api:letter-pdf", args=[letter.number])).status_code == 403
    pending = full.get(reverse("api:letter-pdf", args=[letter.number]))
    assert (pending.status_code, pending.json()["errors"][0]["code"]) == (404, "letter_not_approved")
    letter.refresh_from_db()
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    pdf = full.get(reverse("api:letter-pdf", args=[letter.number]))
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert pdf["Cache-Control"] == "no-store"


def test_a_letter_pdf_is_given_only_once_approved_and_never_after_cancellation(
    machine, run_dunning, legal, agent, django_capture_on_commit_callbacks
):
    line = overdue_line(due=DUE)
    run_dunning(TODAY)
    law_firm_with_lawyer(legal)
    case = Case.objects.with_customer().get(credit_line=line)
    with django_capture_on_commit_callbacks(execute=True):
        letter = letter_draft(
            case=case, template=LetterTemplate.objects.get(code="lawyer-letter", language="zh-hans"), actor=agent
        )
    full = machine(Scope.LETTERS_READ, Scope.PERSONAL_DATA_READ)
    url = reverse("api:letter-pdf", args=[letter.number])
    refused = full.get(url).json()["errors"][0]
    assert (refused["code"], letter.number in refused["message"]) == ("letter_not_approved", True)
    Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.CANCELLED)
    assert full.get(url).status_code == 404
    Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.SENT)
    assert full.get(url).status_code == 200


def test_a_superuser_creates_a_client_in_the_admin_sees_its_token_once_and_rotates_it_after_confirming(
    client, root, supervisor
):
    client.force_login(root)
    page = client.post(
        reverse("admin:backoffice_apiclient_add"),
        {"name": "核心系统", "scopes": [Scope.LEDGER_WRITE, Scope.CASES_READ]},
    )
    created = ApiClient.objects.get(name="核心系统")
    token = page.context["issued"][0][1]
    assert created.token_hash == token_hash(token)
    assert token in page.content.decode()
    assert token not in client.get(reverse("admin:backoffice_apiclient_change", args=[created.pk])).content.decode()
    changelist = reverse("admin:backoffice_apiclient_changelist")
    confirm = client.post(changelist, {"action": "rotate_selected", "_selected_action": [created.pk]})
    assert "Issue new tokens?" in confirm.content.decode()
    assert ApiClient.objects.get(pk=created.pk).token_hash == token_hash(token)
    rotated = client.post(changelist, {"action": "rotate_selected", "_selected_action": [created.pk], "confirm": "yes"})
    new = rotated.context["issued"][0][1]
    assert ApiClient.objects.get(pk=created.pk).token_hash == token_hash(new) != token_hash(token)
    client.force_login(supervisor)
    assert client.get(changelist).status_code == 403


@time_machine.travel(
    datetime.datetime(2026, 3, 20, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=8))), tick=False
)
def test_a_request_of_a_hundred_payments_takes_no_more_statements_than_one_of_ten(
    machine, run_dunning, django_assert_max_num_queries
):
    lines = [overdue_line(due=DUE if serial % 2 else TODAY - datetime.timedelta(days=1)) for serial in range(110)]
    run_dunning(TODAY - datetime.timedelta(days=2), batch_size=1000)
    writer = machine(Scope.LEDGER_WRITE)

    def rows(chosen, prefix):
        return [
            {
                "credit_line": line.number,
                "external_reference": f"{prefix}-{serial}",
                "amount": "1000.00" if serial % 4 == 1 else "10.00",
                "channel": "alipay",
                "received_at": "2026-03-20T10:00:00+08:00",
            }
            for serial, line in enumerate(chosen)
        ]

    with CaptureQueriesContext(connection) as ten:
        assert writer.post(reverse("api:payments"), rows(lines[:10], "TEN"), format="json").status_code == 201
    with django_assert_max_num_queries(len(ten)):
        assert writer.post(reverse("api:payments"), rows(lines[10:], "HUNDRED"), format="json").status_code == 201
    with django_assert_max_num_queries(len(ten)):
        replay = writer.post(reverse("api:payments"), rows(lines[10:], "HUNDRED"), format="json")
    assert replay.status_code == 200
    assert all(row["replayed"] for row in replay.json())
    assert Payment.objects.count() == 110
    assert Case.objects.filter(stage=Stage.RESOLVED).count() == 110 // 4 + 1


def test_an_amendment_reason_as_long_as_the_api_takes_is_kept_whole_in_the_bills_history(machine):
    line = overdue_line(due=DUE)
    reason = "利息减免，" * 100  # 500 characters, the most a reason may be
    writer = machine(Scope.LEDGER_WRITE)
    bill = {"due_date": DUE.isoformat(), "principal_due": "900.00", "reason": reason}
    response = writer.post(reverse("api:bills", args=[line.number]), bill, format="json")
    assert response.status_code == 200, response.content
    assert Bill.objects.get(credit_line=line).history.first().history_change_reason == reason


def test_a_customers_consent_to_app_push_is_sent_and_kept_like_the_others(machine):
    writer = machine(Scope.LEDGER_WRITE)
    customer = {"national_id": ID_NUMBER, "name": "王伟", "mobile": "13812345678", "consents_to_push": False}
    assert writer.post(reverse("api:customers"), customer, format="json").status_code == 201
    stored = Customer.objects.get(national_id=ID_NUMBER)
    assert (stored.consents_to_push, stored.consents_to_sms) == (False, True)
