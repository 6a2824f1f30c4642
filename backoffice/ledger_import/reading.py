"""A ledger file as rows of text: CSV (UTF-8 or GB18030) or XLSX (read-only, formulas as their text).

Nothing in a cell is ever evaluated: a CSV cell is text as written, and an XLSX formula cell is
read as its formula (``=SUM(A1:A3)``), never as the value Excel last computed for it. Row numbers
are those a spreadsheet shows: the header is row 1.
"""

import csv
import datetime
import io
from collections.abc import Iterator
from typing import IO

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from backoffice.kernel.tabular import UnreadableText, decode_text

_XLSX_MAGIC = b"PK\x03\x04"
_OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"
# From 16 digits on, a number in a workbook is not what was typed: Excel keeps 15 significant digits.
_EXACT_DIGITS_LIMIT = 10**15


def ledger_file_read(file: IO[bytes]) -> bytes:
    """Return the bytes of an uploaded file, refusing one past ``LEDGER_IMPORT_MAX_BYTES``."""
    ceiling = settings.LEDGER_IMPORT_MAX_BYTES
    data = file.read(ceiling + 1)
    if len(data) > ceiling:
        raise ValidationError(
            _("The file is larger than %(mb)s MB, the most one import takes; split it.")
            % {"mb": f"{ceiling / (1024 * 1024):g}"},
            code="too_large",
        )
    if not data.strip():
        raise ValidationError(_("The file is empty: it needs a header row and at least one row."), code="empty")
    if data.startswith(_OLD_EXCEL_MAGIC):
        raise ValidationError(_("Old Excel files (.xls) are not read: save the sheet as XLSX or CSV."), code="xls")
    return data


def is_xlsx(data: bytes) -> bool:
    """Return whether the bytes are an XLSX workbook (a zip file) rather than CSV text."""
    return data.startswith(_XLSX_MAGIC)


def records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """Yield each row's spreadsheet number and its cells as text, the header first; raise ``ValidationError`` if unreadable."""
    try:
        source = _xlsx_records(data) if is_xlsx(data) else _csv_records(data)
        yield from enumerate(source, start=1)
    except UnreadableText as exc:
        raise ValidationError(str(exc), code="encoding") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ValidationError(_("The file is not a readable CSV file: %(error)s") % {"error": exc}) from None


def record_count(data: bytes) -> int:
    """Return how many rows the file has below its header (blank ones included), for progress bars."""
    return max(sum(1 for _row in records(data)) - 1, 0)


def sheet_name(data: bytes) -> str | None:
    """Return the name of the sheet an XLSX file is read from (None for CSV, or a workbook that does not open)."""
    if not is_xlsx(data):
        return None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # reading the workbook reports the error itself
        return None
    try:
        return _sheet(workbook).title
    finally:
        workbook.close()


def _csv_records(data: bytes) -> Iterator[list[str]]:
    text = decode_text(data)
    first_line = text.partition("\n")[0]
    # Excel's "Unicode text" export (UTF-16) separates cells with tabs.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _sheet(workbook: openpyxl.Workbook) -> object:
    """The active sheet if it is visible, else the first visible one: never a sheet the person cannot see."""
    visible = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"]
    if not visible:
        raise ValidationError(_("The workbook has no visible sheet."), code="no_sheet")
    return workbook.active if workbook.active in visible else visible[0]


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    # openpyxl raises many kinds of error for a damaged workbook (zip, XML, missing parts, bad values).
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:
        raise ValidationError(_("The file is not a readable XLSX workbook: %(error)s") % {"error": exc}) from None
    try:
        sheet = _sheet(workbook)
        for number, values in enumerate(_sheet_rows(sheet), start=1):
            yield [_xlsx_cell_text(value, number, column) for column, value in enumerate(values, start=1)]
    finally:
        workbook.close()


def _sheet_rows(sheet: object) -> Iterator[tuple]:
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # see _xlsx_records
        raise ValidationError(_("The file is not a readable XLSX workbook: %(error)s") % {"error": exc}) from None


def _xlsx_cell_text(value: object, row: int, column: int) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= _EXACT_DIGITS_LIMIT:
        raise ValidationError(
            _(
                "Cell %(cell)s holds the number %(value)s, of which Excel keeps only the first 15 digits "
                "(an ID or a reference typed as a number): format the column as text, type the values again "
                "and upload the file again."
            )
            % {"cell": f"{get_column_letter(column)}{row}", "value": cell_text(value)},
            code="number_as_text",
        )
    return cell_text(value)


def cell_text(value: object) -> str:
    """Return an XLSX cell as the text a person would have typed in a CSV file."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # The shortest text that reads back as the same number: 12.34, not 12.339999999999999.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None and value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
