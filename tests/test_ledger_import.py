"""Ledger files (customers, credit lines, bills, payments) imported from CSV or XLSX, whole or not at all."""

import csv
import datetime
from io import StringIO

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Bill, CreditLine, Customer, Payment, PaymentAllocation
from backoffice.ledger_import import staging
from backoffice.ledger_import.staged_rows import staging_table
from cases.choices import Stage
from cases.models import Case
from tests.factories import BillFactory, CreditLineFactory, CustomerFactory, overdue_line, product_on, valid_national_id

pytestmark = pytest.mark.django_db

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
FORMATS = ["utf-8", "gb18030", "xlsx"]


def ledger_file(tmp_path, rows: list[list[str]], file_format: str = "utf-8", name: str = "ledger"):
    """Write a header row and rows as a CSV file in an encoding, or as an XLSX workbook; return its path."""
    if file_format == "xlsx":
        path = tmp_path / f"{name}.xlsx"
        workbook = openpyxl.Workbook()
        for row in rows:
            workbook.active.append(row)
        workbook.save(path)
        return path
    path = tmp_path / f"{name}.csv"
    with open(path, "w", encoding=file_format, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def import_ledger(path, kind: str, **options) -> str:
    out = StringIO()
    call_command("import_ledger", str(path), kind=kind, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def product():
    return product_on("standard")


@pytest.mark.parametrize("file_format", FORMATS)
def test_customers_are_created_then_updated_by_national_id_with_chinese_headers(tmp_path, file_format):
    known = CustomerFactory(name="李娜", mobile="13900000000")
    new_id = valid_national_id()
    rows = [
        ["身份证号", "姓名", "手机号", "邮箱", "勿扰", "同意推送"],
        [new_id, "王伟", "13812345678", "wang@example.com", "否", "否"],
        [known.national_id, "李娜", "13911112222", "", "是", ""],
    ]
    summary = import_ledger(ledger_file(tmp_path, rows, file_format), "customers")
    assert summary.strip() == "2 rows: 1 created, 1 updated, 0 unchanged."
    created = Customer.objects.get(national_id=new_id)
    assert (created.consents_to_push, Customer.objects.get(pk=known.pk).consents_to_push) == (False, True)
    assert (created.name, created.mobile, created.email, created.do_not_contact) == (
        "王伟",
        "13812345678",
        "wang@example.com",
        False,
    )
    known.refresh_from_db()
    assert (known.mobile, known.do_not_contact, known.address != "") == ("13911112222", True, True)


@pytest.mark.parametrize("file_format", FORMATS)
def test_credit_lines_are_opened_and_their_limits_updated_by_contract_number(tmp_path, file_format, product):
    customer = CustomerFactory()
    existing = CreditLineFactory(customer=customer, product=product, limit_fen=500_000)
    rows = [
        ["number", "customer_national_id", "product", "limit", "opened_on", "closed"],
        ["CL-NEW-1", customer.national_id, product.code, "20000.00", "2026/3/1", ""],
        [existing.number, customer.national_id, product.code, "8000", "2025-01-01", "yes"],
    ]
    summary = import_ledger(ledger_file(tmp_path, rows, file_format), "lines")
    assert summary.strip() == "2 rows: 1 created, 1 updated, 0 unchanged."
    line = CreditLine.objects.get(number="CL-NEW-1")
    assert (line.customer, line.limit_fen, line.opened_on) == (customer, 2_000_000, datetime.date(2026, 3, 1))
    existing.refresh_from_db()
    assert (existing.limit_fen, existing.status) == (800_000, "closed")


@pytest.mark.parametrize("file_format", FORMATS)
def test_bills_are_created_and_amended_with_a_reason(tmp_path, file_format):
    line = CreditLineFactory()
    BillFactory(credit_line=line, due_date=datetime.date(2026, 1, 10), principal_due_fen=100_000)
    rows = [
        ["合同号", "到期日", "应还本金", "应还利息", "应还费用", "修改原因"],
        [line.number, "2026-02-10", "1000.00", "20.50", "", ""],
        [line.number, "2026-01-10", "900.00", "20.00", "5.00", "减免本金 100 元"],
    ]
    summary = import_ledger(ledger_file(tmp_path, rows, file_format), "bills")
    assert summary.strip() == "2 rows: 1 created, 1 updated, 0 unchanged."
    amounts = list(
        Bill.objects.filter(credit_line=line)
        .order_by("due_date")
        .values_list("principal_due_fen", "interest_due_fen", "fees_due_fen")
    )
    assert amounts == [(90_000, 2_000, 500), (100_000, 2_050, 0)]
    assert Bill.objects.get(due_date=datetime.date(2026, 1, 10)).history.first().history_change_reason == (
        "减免本金 100 元"
    )


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
@pytest.mark.parametrize("file_format", FORMATS)
def test_payments_are_recorded_and_allocated_oldest_bill_first(tmp_path, file_format):
    line = overdue_line(due=datetime.date(2026, 1, 10), principal_fen=100_000)
    rows = [
        ["credit_line", "external_reference", "amount", "channel", "received_at"],
        [line.number, "PAY-1", "300.00", "支付宝", "2026-03-19 09:30"],
        [line.number, "PAY-2", "200", "bank_transfer", "2026-03-19T10:00:00+08:00"],
    ]
    summary = import_ledger(ledger_file(tmp_path, rows, file_format), "payments")
    assert summary.strip().startswith("2 rows: 2 payments recorded, 0 replayed")
    first = Payment.objects.get(external_reference="PAY-1")
    assert (first.amount_fen, first.channel, first.received_at) == (
        30_000,
        "alipay",
        datetime.datetime(2026, 3, 19, 9, 30, tzinfo=BEIJING),
    )
    assert Bill.objects.get(credit_line=line).principal_paid_fen == 50_000


def test_a_bad_row_refuses_the_whole_file_naming_every_bad_row_field_and_value(tmp_path):
    rows = [
        ["national_id", "name", "mobile", "preferred_language"],
        [valid_national_id(), "王伟", "13812345678", "zh-hans"],
        ["110101199003074510", "李娜", "13812345679", ""],
        [valid_national_id(), "张敏", "12345", ""],
        [valid_national_id(), "刘洋", "13812345670", "klingon"],
    ]
    with pytest.raises(CommandError) as caught:
        # One row a batch: the good first row would be committed alone if the file were not checked whole.
        import_ledger(ledger_file(tmp_path, rows), "customers", batch_size=1)
    message = str(caught.value)
    assert "File refused; nothing was imported." in message
    assert "Row 3, national_id '110101199003074510'" in message
    assert "Row 4, mobile '12345'" in message
    assert "Row 5, preferred_language 'klingon'" in message
    assert not Customer.objects.exists()


def test_rows_naming_unknown_lines_or_reusing_a_reference_refuse_a_payments_file(tmp_path):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    rows = [
        ["credit_line", "external_reference", "amount", "channel", "received_at"],
        [line.number, "PAY-1", "10.00", "alipay", "2026-03-19 09:30"],
        ["CL-NOBODY", "PAY-2", "10.00", "alipay", "2026-03-19 09:30"],
        [line.number, "PAY-1", "10.00", "alipay", "2026-03-19 09:30"],
        [line.number, "PAY-3", "-5", "cash", "2026-03-19"],
    ]
    with pytest.raises(CommandError) as caught:
        import_ledger(ledger_file(tmp_path, rows), "payments")
    message = str(caught.value)
    assert "Row 3, credit_line 'CL-NOBODY': no credit line has this contract number." in message
    assert "Row 4 repeats row 2 of the file." in message
    assert "Row 5, amount '-5': must be greater than zero." in message
    assert "Row 5, channel 'cash'" in message
    assert "Row 5, received_at '2026-03-19': a time of day is needed" in message
    assert not Payment.objects.exists()


def test_amending_a_bill_without_a_reason_refuses_the_file(tmp_path):
    bill = BillFactory(principal_due_fen=100_000)
    rows = [["credit_line", "due_date", "principal_due"], [bill.credit_line.number, str(bill.due_date), "999.00"]]
    with pytest.raises(CommandError, match=r"Row 2, reason '': the bill exists with other amounts"):
        import_ledger(ledger_file(tmp_path, rows), "bills")
    bill.refresh_from_db()
    assert bill.principal_due_fen == 100_000


def test_a_dry_run_checks_the_file_and_writes_nothing(tmp_path):
    rows = [["national_id", "name", "mobile"], [valid_national_id(), "王伟", "13812345678"]]
    assert "1 row checked;" in import_ledger(ledger_file(tmp_path, rows), "customers", dry_run=True)
    assert not Customer.objects.exists()


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_importing_the_same_files_again_changes_nothing(tmp_path, product):
    national_id = valid_national_id()
    files = {
        "customers": [["national_id", "name", "mobile"], [national_id, "王伟", "13812345678"]],
        "lines": [
            ["number", "customer_national_id", "product", "limit", "opened_on"],
            ["CL-1", national_id, product.code, "5000.00", "2025-06-01"],
        ],
        "bills": [["credit_line", "due_date", "principal_due"], ["CL-1", "2026-03-01", "1000.00"]],
        "payments": [
            ["credit_line", "external_reference", "amount", "channel", "received_at"],
            ["CL-1", "PAY-1", "400.00", "alipay", "2026-03-19 09:30"],
        ],
    }
    for kind, rows in files.items():
        import_ledger(ledger_file(tmp_path, rows, name=kind), kind)

    def state():
        return (
            list(Customer.history.values_list("history_id")),
            list(CreditLine.objects.values_list("id", "limit_fen", "status")),
            list(Bill.history.values_list("history_id")),
            list(Payment.objects.values_list("id")),
            list(PaymentAllocation.objects.values_list("id", "principal_fen")),
        )

    before = state()
    summaries = [import_ledger(ledger_file(tmp_path, rows, name=kind), kind) for kind, rows in files.items()]
    assert [summary.strip() for summary in summaries[:3]] == ["1 row: 0 created, 0 updated, 1 unchanged."] * 3
    assert summaries[3].startswith("1 row: 0 payments recorded, 1 replayed")
    assert state() == before


@pytest.mark.parametrize("file_format", ["utf-8", "xlsx"])
def test_cells_that_look_like_formulas_are_kept_as_text(tmp_path, file_format):
    national_id = valid_national_id()
    rows = [
        ["national_id", "name", "mobile", "address", "email"],
        [national_id, "=1+2", "13812345678", '=HYPERLINK("http://example.com","点我")', ""],
    ]
    import_ledger(ledger_file(tmp_path, rows, file_format), "customers")
    customer = Customer.objects.get(national_id=national_id)
    assert (customer.name, customer.address) == ("=1+2", '=HYPERLINK("http://example.com","点我")')


def test_a_file_over_the_size_ceiling_is_refused_with_a_clear_message(tmp_path, settings):
    settings.LEDGER_IMPORT_MAX_BYTES = 2048
    rows = [["national_id", "name", "mobile"]] + [[valid_national_id(), "王伟", "13812345678"]] * 100
    with pytest.raises(CommandError, match=r"larger than 0\.00195312 MB, the most one import takes; split it"):
        import_ledger(ledger_file(tmp_path, rows), "customers")
    assert not Customer.objects.exists()


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_payments_bring_their_lines_cases_up_to_date_the_same_day(tmp_path, run_dunning):
    paid, partly = overdue_line(due=datetime.date(2026, 1, 10)), overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 19))
    rows = [
        ["credit_line", "external_reference", "amount", "channel", "received_at"],
        [paid.number, "FULL-1", "1000.00", "alipay", "2026-03-20 09:00"],
        [partly.number, "PART-1", "100.00", "alipay", "2026-03-20 09:00"],
    ]
    summary = import_ledger(ledger_file(tmp_path, rows), "payments", batch_size=1)
    assert "1 case resolved" in summary
    assert Case.objects.get(credit_line=paid).stage == Stage.RESOLVED
    partly_case = Case.objects.get(credit_line=partly)
    assert (partly_case.stage != Stage.RESOLVED, partly_case.balance_fen) == (True, 90_000)


def upload(client, path, kind: str):
    with open(path, "rb") as file:
        content = SimpleUploadedFile(path.name, file.read())
    return client.post(reverse("ledger_import"), {"kind": kind, "file": content})


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_a_superuser_previews_a_file_then_confirms_its_import(client, root, tmp_path):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    rows = [["credit_line", "external_reference", "amount", "channel", "received_at"]] + [
        [line.number, f"PAY-{n}", "1.00", "alipay", "2026-03-19 09:30"] for n in range(25)
    ]
    client.force_login(root)
    assert client.get(reverse("ledger_import")).status_code == 200
    preview = upload(client, ledger_file(tmp_path, rows, "xlsx"), "payments")
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "PAY-19" in page  # the first 20 rows, and no more
    assert "PAY-20" not in page
    assert "25 rows checked, no problem found." in page
    assert not Payment.objects.exists()
    token = preview.context["confirm"].initial["token"]
    done = client.post(reverse("ledger_import_confirm"), {"kind": "payments", "token": token}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("admin:accounts_payment_changelist")
    assert "25 rows: 25 payments recorded" in done.content.decode()
    assert Payment.objects.count() == 25
    assert staging.staged(token, user=root) is None


def test_the_preview_of_a_bad_file_lists_every_problem_and_offers_no_import(client, root, tmp_path):
    rows = [["national_id", "name", "mobile"], ["123", "王伟", "13812345678"], [valid_national_id(), "", "1"]]
    client.force_login(root)
    page = upload(client, ledger_file(tmp_path, rows), "customers").content.decode()
    assert "The file is refused: 2 problems." in page
    assert page.index("Row 2, national_id &#x27;123&#x27;") < page.index(
        "Row 3, name &#x27;&#x27;: a value is required."
    )
    assert reverse("ledger_import_confirm") not in page


def test_the_admin_refuses_a_file_over_the_size_ceiling(client, root, tmp_path, settings):
    settings.LEDGER_IMPORT_MAX_BYTES = 1024
    rows = [["national_id", "name", "mobile"]] + [[valid_national_id(), "王伟", "13812345678"]] * 50
    client.force_login(root)
    page = upload(client, ledger_file(tmp_path, rows), "customers").content.decode()
    assert "the most one import takes; split it." in page


def test_another_user_cannot_confirm_a_file_staged_by_someone_else(client, root, tmp_path):
    rows = [["national_id", "name", "mobile"], [valid_national_id(), "王伟", "13812345678"]]
    token = staging.stage(ledger_file(tmp_path, rows).read_bytes(), user=root, kind="customers")
    other = User.objects.create_superuser("root-other", password="pw-123456")
    client.force_login(other)
    client.post(reverse("ledger_import_confirm"), {"kind": "customers", "token": token})
    assert not Customer.objects.exists()
    staging.unstage(token, user=root)


def test_an_agent_may_not_import_the_ledger(client, agent, tmp_path):
    rows = [["national_id", "name", "mobile"], [valid_national_id(), "王伟", "13812345678"]]
    client.force_login(agent)
    assert client.get(reverse("ledger_import")).status_code == 403
    assert upload(client, ledger_file(tmp_path, rows), "customers").status_code == 403
    assert client.post(reverse("ledger_import_confirm"), {"kind": "customers", "token": "x" * 32}).status_code == 403
    assert not Customer.objects.exists()


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_a_lines_payments_are_allocated_in_the_order_received_whatever_the_order_of_the_file(tmp_path):
    line = overdue_line(due=datetime.date(2026, 1, 10), principal_fen=100_000)
    newer = BillFactory(credit_line=line, due_date=datetime.date(2026, 2, 10), principal_due_fen=100_000)
    other = overdue_line(due=datetime.date(2026, 1, 10))
    rows = [
        ["credit_line", "external_reference", "amount", "channel", "received_at"],
        [line.number, "LATE", "1000.00", "alipay", "2026-03-19 15:00"],
        [other.number, "OTHER", "1.00", "alipay", "2026-03-19 12:00"],
        [line.number, "EARLY", "1000.00", "alipay", "2026-03-19 09:00"],
    ]
    # One row a batch: in file order, LATE would be recorded (and take the oldest bill) first.
    summary = import_ledger(ledger_file(tmp_path, rows), "payments", batch_size=1)
    assert summary.strip().startswith("3 rows: 3 payments recorded")
    oldest = Bill.objects.get(credit_line=line, due_date=datetime.date(2026, 1, 10))
    assert list(
        PaymentAllocation.objects.filter(bill=oldest).values_list("payment__external_reference", flat=True)
    ) == ["EARLY"]
    assert list(PaymentAllocation.objects.filter(bill=newer).values_list("payment__external_reference", flat=True)) == [
        "LATE"
    ]


@time_machine.travel(datetime.datetime(2026, 3, 20, 10, tzinfo=BEIJING), tick=False)
def test_a_payment_received_in_the_future_or_before_its_line_opened_refuses_the_file_before_anything_is_written(
    tmp_path,
):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    rows = [
        ["credit_line", "external_reference", "amount", "channel", "received_at"],
        [line.number, "PAY-1", "10.00", "alipay", "2026-03-19 09:30"],
        [line.number, "PAY-2", "10.00", "alipay", "2026-03-21 09:30"],
        [line.number, "PAY-3", "10.00", "alipay", "2020-01-01 09:30"],
    ]
    with pytest.raises(CommandError) as caught:
        import_ledger(ledger_file(tmp_path, rows), "payments", batch_size=1)
    message = str(caught.value)
    assert "File refused; nothing was imported." in message
    assert "Row 3, received_at '2026-03-21 09:30': Received time 2026-03-21T09:30:00+08:00 is in the future." in message
    assert (
        "Row 4, received_at '2020-01-01 09:30': Received time 2020-01-01T09:30:00+08:00 is before the line opened"
        in (message)
    )
    assert not Payment.objects.exists()


def _staged(rows: list[tuple], size: int) -> list[list[str]]:
    with staging_table([("credit_line", "text"), ("external_reference", "text")]) as table:
        table.add(rows)
        batches = table.batches(order=("credit_line", "number"), group="credit_line", size=size)
        return [[reference for _number, _line, reference in batch] for batch in batches]


def test_staged_rows_come_back_sorted_in_batches_that_split_a_line_only_when_it_fills_one_alone():
    rows = [(2, "B", "b1"), (3, "A", "a1"), (4, "B", "b2"), (5, "C", "c1"), (6, "A", "a2"), (7, "B", "b3")]
    assert _staged(rows, size=4) == [["a1", "a2"], ["b1", "b2", "b3", "c1"]]
    assert _staged(rows, size=2) == [["a1", "a2"], ["b1", "b2"], ["b3", "c1"]]
    assert _staged(rows, size=100) == [["a1", "a2", "b1", "b2", "b3", "c1"]]
    assert _staged([], size=3) == []


@pytest.mark.parametrize("streams", [0, 9])
def test_streams_outside_one_to_eight_are_refused_naming_the_value(tmp_path, streams):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    rows = [["credit_line", "external_reference", "amount", "channel", "received_at"]]
    rows.append([line.number, "PAY-1", "10.00", "alipay", "2026-01-19 09:30"])
    with pytest.raises(CommandError, match=rf"^--streams {streams}: must be between 1 and 8\.$"):
        import_ledger(ledger_file(tmp_path, rows), "payments", streams=streams)
    assert not Payment.objects.exists()
