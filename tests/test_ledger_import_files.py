"""Ledger files that are hard to read: wrong encodings, control characters, hidden sheets, IDs typed as numbers."""

import csv
import datetime
import io
import zipfile
from collections import Counter
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer, Payment
from accounts.services import payment_post
from backoffice.ledger_import.importing import Outcome
from tests.factories import overdue_line, valid_national_id
from tests.test_ledger_import import import_ledger, ledger_file

pytestmark = pytest.mark.django_db

CUSTOMER_HEADER = ["national_id", "name", "mobile"]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def upload_bytes(client, data: bytes, kind: str, name: str = "ledger.csv"):
    return client.post(reverse("ledger_import"), {"kind": kind, "file": SimpleUploadedFile(name, data)})


def test_a_nul_byte_in_a_cell_is_refused_at_the_check_naming_row_field_and_value(tmp_path):
    rows = [
        CUSTOMER_HEADER,
        [valid_national_id(), "王伟", "13812345678"],
        [valid_national_id(), "李\x00娜", "13812345679"],
    ]
    with pytest.raises(CommandError) as caught:
        import_ledger(ledger_file(tmp_path, rows), "customers", batch_size=1)
    assert "Row 3, name '李\\x00娜': holds a control character ('\\x00')" in str(caught.value)
    assert not Customer.objects.exists()


def test_the_preview_refuses_a_control_character_and_offers_no_import(client, root, tmp_path):
    data = csv_bytes([CUSTOMER_HEADER, [valid_national_id(), "王\x1b伟", "13812345678"]])
    client.force_login(root)
    page = upload_bytes(client, data, "customers").content.decode()
    assert "Row 2, name &#x27;王\\x1b伟&#x27;: holds a control character" in page
    assert reverse("ledger_import_confirm") not in page


def test_a_latin1_file_is_refused_in_the_admin_naming_the_byte_and_line(client, root):
    data = "national_id,name,mobile\n110101199003074496,José Müller,13812345678\n".encode("latin-1")
    client.force_login(root)
    response = upload_bytes(client, data, "customers")
    page = response.content.decode()
    assert response.status_code == 200
    offset = data.index("é".encode("latin-1"))
    assert f"The file is not text in UTF-8 / GB18030: byte {offset} (line 2) is 0xe9." in page
    assert reverse("ledger_import_confirm") not in page


def test_a_latin1_file_is_refused_by_the_command_without_a_traceback(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("national_id,name,mobile\n110101199003074496,José,13812345678\n".encode("latin-1"))
    with pytest.raises(CommandError) as caught:
        import_ledger(path, "customers")
    assert "File refused; nothing was imported." in str(caught.value)
    assert "byte 46 (line 2) is 0xe9" in str(caught.value)


def test_utf16_with_a_byte_order_mark_is_read_commas_or_tabs(tmp_path):
    first, second = valid_national_id(), valid_national_id()
    (tmp_path / "commas.csv").write_bytes(csv_bytes([CUSTOMER_HEADER, [first, "王伟", "13812345678"]], "utf-16"))
    tabs = "\t".join(CUSTOMER_HEADER) + "\r\n" + "\t".join([second, "李娜", "13812345679"]) + "\r\n"
    (tmp_path / "tabs.txt").write_bytes(tabs.encode("utf-16"))
    assert import_ledger(tmp_path / "commas.csv", "customers").startswith("1 row: 1 created")
    assert import_ledger(tmp_path / "tabs.txt", "customers").startswith("1 row: 1 created")
    assert set(Customer.objects.values_list("name", flat=True)) == {"王伟", "李娜"}


def test_utf16_without_a_byte_order_mark_is_refused_as_such(tmp_path):
    path = tmp_path / "utf16le.csv"
    path.write_bytes(csv_bytes([CUSTOMER_HEADER, [valid_national_id(), "王伟", "13812345678"]], "utf-16-le"))
    with pytest.raises(CommandError, match="looks like UTF-16 without a byte-order mark"):
        import_ledger(path, "customers")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp_path: tmp_path / "missing.csv", "Cannot read"),
        (lambda tmp_path: tmp_path, "Cannot read"),
        (lambda tmp_path: _write(tmp_path / "empty.csv", b""), "The file is empty"),
        (lambda tmp_path: _write(tmp_path / "broken.xlsx", b"PK\x03\x04not a zip at all"), "not a readable XLSX"),
        (lambda tmp_path: _write(tmp_path / "zip.xlsx", _zip_without_workbook()), "not a readable XLSX"),
        (lambda tmp_path: _write(tmp_path / "torn.xlsx", _workbook_with_a_torn_sheet()), "not a readable XLSX"),
    ],
)
def test_any_unreadable_file_is_a_clean_command_error(tmp_path, make, expected):
    with pytest.raises(CommandError, match=expected):
        import_ledger(make(tmp_path), "customers")


def test_an_unknown_kind_is_a_clean_command_error(tmp_path):
    path = ledger_file(tmp_path, [CUSTOMER_HEADER, [valid_national_id(), "王伟", "13812345678"]])
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_ledger", str(path), kind="debtors")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "no workbook here")
    return buffer.getvalue()


def _workbook_with_a_torn_sheet() -> bytes:
    whole = io.BytesIO(_workbook([("Sheet", [CUSTOMER_HEADER], "visible")], active=0))
    torn = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(torn, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            target.writestr(item, b"<worksheet><sheetData><row" if item.filename.endswith("sheet1.xml") else content)
    return torn.getvalue()


def _workbook(sheets: list[tuple[str, list[list[object]], str]], active: int) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows, state in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    workbook.active = active
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_hidden_first_sheet_is_not_read_and_the_preview_names_the_sheet_read(client, root):
    shown = valid_national_id()
    data = _workbook(
        [
            ("lookup", [CUSTOMER_HEADER, ["not an ID", "", ""]], "hidden"),
            ("客户", [CUSTOMER_HEADER, [shown, "王伟", "13812345678"]], "visible"),
        ],
        active=0,
    )
    client.force_login(root)
    page = upload_bytes(client, data, "customers", "ledger.xlsx").content.decode()
    assert "Read from the sheet “客户”." in page
    assert "1 row checked, no problem found." in page
    assert shown in page


def test_the_active_sheet_is_read_when_it_is_visible(tmp_path):
    data = _workbook(
        [
            ("old", [CUSTOMER_HEADER, ["not an ID", "", ""]], "visible"),
            ("new", [CUSTOMER_HEADER, [valid_national_id(), "王伟", "13812345678"]], "visible"),
        ],
        active=1,
    )
    path = _write(tmp_path / "two.xlsx", data)
    assert import_ledger(path, "customers").startswith("1 row: 1 created")


def test_a_national_id_stored_as_a_number_asks_to_format_the_column_as_text(tmp_path):
    data = _workbook([("Sheet", [CUSTOMER_HEADER, [110101199003074496.0, "王伟", 13812345678]], "visible")], active=0)
    path = _write(tmp_path / "numbers.xlsx", data)
    with pytest.raises(CommandError) as caught:
        import_ledger(path, "customers")
    assert "Cell A2 holds the number 110101199003074496" in str(caught.value)
    assert "format the column as text" in str(caught.value)
    assert "check" not in str(caught.value)  # not a check-digit error for a number nobody typed
    assert not Customer.objects.exists()


def test_counts_in_an_import_summary_agree_in_number():
    one = Outcome(kind="payments", rows=1, counts=Counter(recorded=1, cases_resolved=1))
    assert one.summary() == "1 row: 1 payment recorded, 0 replayed (recorded before); 1 case resolved."
    many = Outcome(kind="customers", rows=2, counts=Counter(created=2))
    assert many.summary() == "2 rows: 2 created, 0 updated, 0 unchanged."


def _preview_payments(client, tmp_path, line) -> str:
    rows = [
        ["credit_line", "external_reference", "amount", "channel", "received_at"],
        [line.number, "PAY-1", "10.00", "alipay", "2026-03-19 09:30"],
        [line.number, "PAY-2", "10.00", "alipay", "2026-03-19 09:30"],
    ]
    with open(ledger_file(tmp_path, rows), "rb") as file:
        content = SimpleUploadedFile("payments.csv", file.read())
    preview = client.post(reverse("ledger_import"), {"kind": "payments", "file": content})
    assert "2 rows checked, no problem found." in preview.content.decode()
    return preview.context["confirm"].initial["token"]


def test_confirming_under_another_kind_checks_the_file_again_and_refuses_it(client, root, tmp_path):
    client.force_login(root)
    token = _preview_payments(client, tmp_path, overdue_line(due=datetime.date(2026, 1, 10)))
    done = client.post(reverse("ledger_import_confirm"), {"kind": "customers", "token": token}, follow=True)
    assert "Column &#x27;credit_line&#x27; is unknown" in done.content.decode()
    assert not Payment.objects.exists()


def test_a_reference_used_between_preview_and_confirm_stops_the_import_naming_the_row(client, root, tmp_path):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    client.force_login(root)
    token = _preview_payments(client, tmp_path, line)
    payment_post(
        credit_line=line,
        external_reference="PAY-2",
        amount=Decimal("99.00"),
        channel="alipay",
        received_at=timezone.now(),
        actor=None,
    )
    done = client.post(reverse("ledger_import_confirm"), {"kind": "payments", "token": token}, follow=True)
    page = done.content.decode()
    assert "The ledger changed since the preview" in page
    assert "Row 3, external_reference &#x27;PAY-2&#x27;: already used for a different payment" in page
    assert list(Payment.objects.values_list("external_reference", flat=True)) == ["PAY-2"]
