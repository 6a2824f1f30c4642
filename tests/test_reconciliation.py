"""The reconciliation: what came in and what went out per business day, from the API and in the admin."""

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import ReversalReason
from accounts.models import Bill, Payment
from accounts.services import bill_upsert, payment_post, payment_reverse
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.events import EventType, event_record
from backoffice.reconciliation.report import reconciliation_report
from tests.factories import BillFactory, CreditLineFactory, CustomerFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 1)


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def at(moment: datetime.datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def ledger():
    """On 1 December (Beijing time): a customer, a line, two bills, one amended; two payments; events. Around
    it, rows of 30 November 23:59 and 2 December 00:00, which belong to those days."""
    with at(local(DAY, 0)):
        line = CreditLineFactory()  # its customer too
        bill = BillFactory(credit_line=line, due_date=datetime.date(2026, 11, 10))
    with at(local(DAY, 9)):
        BillFactory(credit_line=line, due_date=datetime.date(2026, 12, 10))
        amounts = {"principal_due": "1000.00", "interest_due": "20.00", "fees_due": "5.00"}
        bill_upsert(credit_line=line, due_date=bill.due_date, amounts=amounts, reason="unchanged, sent again")
        bill_upsert(credit_line=line, due_date=bill.due_date, amounts={**amounts, "fees_due": "0"}, reason="罚息减免")
        event_record(type=EventType.CASE_OPENED, credit_line_id=line.pk)
        event_record(type=EventType.CASE_OPENED, credit_line_id=line.pk)
    for hour, reference, amount in ((10, "P-1", "300.00"), (22, "P-2", "200.50")):
        with at(local(DAY, hour)):
            # Received the day before, recorded today: counted today.
            payment_post(
                credit_line=line,
                external_reference=reference,
                amount=amount,
                channel="alipay",
                received_at=local(DAY - datetime.timedelta(days=1), 12),
            )
    with at(local(DAY - datetime.timedelta(days=1), 23, 59)):
        CustomerFactory()
        event_record(type=EventType.LETTER_SENT)
    with at(local(DAY + datetime.timedelta(days=1), 0)):
        CustomerFactory()
        event_record(type=EventType.PROMISE_KEPT)
    return line


def test_a_day_counts_what_came_in_and_went_out_in_its_local_hours_only(ledger):
    report = reconciliation_report(first=DAY, last=DAY)
    [day] = report.days
    assert (day.customers, day.credit_lines, day.bills_new, day.bills_amended) == (1, 1, 2, 1)
    assert (day.payments, day.payments_fen, day.reversals, day.reversals_fen) == (2, 50_050, 0, 0)
    assert day.events == {**dict.fromkeys(EventType.values, 0), EventType.CASE_OPENED: 2}
    assert report.time_zone == "Asia/Shanghai"


def test_every_day_of_a_range_is_listed_zeros_included_with_the_totals(ledger):
    before, after = DAY - datetime.timedelta(days=2), DAY + datetime.timedelta(days=1)
    report = reconciliation_report(first=before, last=after)
    assert [day.day for day in report.days] == [before + datetime.timedelta(days=n) for n in range(4)]
    assert [day.customers for day in report.days] == [0, 1, 1, 1]
    assert report.days[0].is_empty
    assert report.days[1].events[EventType.LETTER_SENT] == 1
    assert report.days[3].events[EventType.PROMISE_KEPT] == 1
    assert (report.totals.customers, report.totals.payments_fen) == (3, 50_050)
    assert sum(report.totals.events.values()) == 4


def test_the_report_takes_the_same_few_queries_for_one_day_and_for_31(ledger, django_assert_num_queries):
    with django_assert_num_queries(6):
        reconciliation_report(first=DAY, last=DAY)
    with django_assert_num_queries(6):
        reconciliation_report(first=DAY - datetime.timedelta(days=30), last=DAY)


def test_a_bill_sent_again_unchanged_writes_nothing(db):
    bill = BillFactory()
    amounts = {"principal_due": "1000.00", "interest_due": "20.00", "fees_due": "5.00"}
    before = bill.history.count()
    same, created = bill_upsert(credit_line=bill.credit_line, due_date=bill.due_date, amounts=amounts, reason="again")
    assert (same.pk, created, bill.history.count()) == (bill.pk, False, before)


def bearer(root, *scopes):
    _client, token = api_client_create(name=f"core-{'-'.join(scopes) or 'none'}", scopes=list(scopes), actor=root)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_the_endpoint_answers_ledger_read_clients_and_supervisors(ledger, root, client, supervisor, agent):
    url = reverse("api:reconciliation")
    body = bearer(root, Scope.LEDGER_READ).get(url, {"date": DAY.isoformat()}).json()
    assert (body["from"], body["to"], body["time_zone"]) == ("2026-12-01", "2026-12-01", "Asia/Shanghai")
    [day] = body["days"]
    assert day["in"] == {
        "customers": 1,
        "credit_lines": 1,
        "bills": {"new": 2, "amended": 1},
        "payments": {"count": 2, "amount": "500.50"},
        "reversals": {"count": 0, "amount": "0.00"},
    }
    assert day["out"]["events"] == {**dict.fromkeys(EventType.values, 0), "case.opened": 2}
    assert body["totals"] == {key: day[key] for key in ("in", "out")}
    ranged = bearer(root, Scope.LEDGER_READ, Scope.CASES_READ).get(url, {"from": "2026-11-30", "to": "2026-12-02"})
    assert [d["date"] for d in ranged.json()["days"]] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert bearer(root, Scope.CASES_READ).get(url).status_code == 403
    client.force_login(supervisor)
    assert client.get(url, {"date": DAY.isoformat()}).json()["totals"]["in"]["customers"] == 1
    client.force_login(agent)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ({"date": "2026-02-30"}, "date", "2026-02-30"),
        ({"from": "yesterday", "to": "2026-12-01"}, "from", "yesterday"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to", "2026-12-01"),
        ({"from": "2026-11-01", "to": "2026-12-02"}, "to", "2026-12-02"),
        ({"date": "2026-12-01", "from": "2026-12-01"}, "from", "2026-12-01"),
        ({"date": "9999-12-31"}, "date", "9999-12-31"),
        ({"from": "1999-12-31"}, "from", "1999-12-31"),
    ],
)
def test_bad_days_are_refused_in_the_one_error_format_naming_field_and_value(root, query, field, value):
    response = bearer(root, Scope.LEDGER_READ).get(reverse("api:reconciliation"), query)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == (field, value)
    assert error["message"]


def test_a_31_day_range_is_the_longest_allowed(root):
    ok = bearer(root, Scope.LEDGER_READ).get(reverse("api:reconciliation"), {"from": "2026-11-01", "to": "2026-12-01"})
    assert (ok.status_code, len(ok.json()["days"])) == (200, 31)


def test_supervisors_and_superusers_read_the_page_and_agents_do_not(ledger, client, supervisor, agent, root):
    url = reverse("reconciliation")
    client.force_login(supervisor)
    page = client.get(url, {"from": "2026-11-30", "to": "2026-12-02"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="reconciliation-in"' in html
    assert "¥500.50" in html
    assert "2026-11-30" in html
    assert client.get(reverse("admin:index"), follow=True).content.decode().count(f'href="{url}"') == 1
    client.force_login(root)
    assert client.get(url).status_code == 200
    client.force_login(agent)
    assert client.get(url).status_code == 403
    assert f'href="{url}"' not in client.get(reverse("admin:index")).content.decode()


def test_the_page_explains_an_empty_range_and_refuses_a_bad_one(client, supervisor):
    client.force_login(supervisor)
    empty = client.get(reverse("reconciliation"), {"from": "2026-01-01", "to": "2026-01-02"}).content.decode()
    assert 'id="reconciliation-empty"' in empty
    assert 'id="reconciliation-in"' not in empty
    bad = client.get(reverse("reconciliation"), {"from": "2026-01-01", "to": "2026-03-01"}).content.decode()
    assert "2026-03-01 is more than 31 days after 2026-01-01" in bad


def test_the_page_follows_a_chinese_browser(client, supervisor):
    # The report's own strings are in the catalogue once it is regenerated; the frame already speaks Chinese.
    client.force_login(supervisor)
    page = client.get(reverse("reconciliation"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "催收管理后台" in page
    assert 'id="language-switch"' in page


def test_the_csv_has_a_row_per_day_and_the_totals(ledger, client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("reconciliation"), {"from": "2026-11-30", "to": "2026-12-01", "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="reconciliation-2026-11-30-2026-12-01.csv"' in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["Date", "Customers", "Credit lines"]
    assert rows[0][9:] == EventType.values
    assert [row[0] for row in rows[1:]] == ["2026-11-30", "2026-12-01", "Total"]
    assert rows[2][1:9] == ["1", "1", "2", "1", "2", "500.50", "0", "0.00"]
    assert rows[3][1] == "2"  # customers of both days
    assert Bill.objects.count() == 2


def test_a_reversal_is_counted_apart_from_payments_on_the_day_it_was_recorded(ledger):
    payment = Payment.objects.get(external_reference="P-1")
    with at(local(DAY + datetime.timedelta(days=1), 11)):
        payment_reverse(
            payment=payment,
            external_reference="P-1-R",
            reason=ReversalReason.BOUNCED,
            reversed_at=local(DAY + datetime.timedelta(days=1), 10),
            actor=None,
        )
    first, second = reconciliation_report(first=DAY, last=DAY + datetime.timedelta(days=1)).days
    assert (first.payments, first.payments_fen, first.reversals) == (2, 50_050, 0)
    assert (second.payments, second.reversals, second.reversals_fen) == (0, 1, -30_000)
    assert second.events[EventType.PAYMENT_REVERSED] == 1
