"""A ledger file as rows of text: CSV (UTF-8 or GB18030) or XLSX (read-only, formulas as their text).

Nothing in a cell is ever evaluated: a CSV cell is text as written, and an XLSX formula cell is
read as its formula (``=SUM(A1:A3)``), never as the value Excel last computed for it. Row numbers
are those a spreadsheet shows: the header is row 1.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from typing import IO

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from backoffice.kernel.tabular import decode_text

_XLSX_MAGIC = b"PK\x03\x04"
_OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"


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
    source = _xlsx_records(data) if is_xlsx(data) else _csv_records(data)
    try:
        yield from enumerate(source, start=1)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ValidationError(_("The file is not a readable CSV file: %(error)s") % {"error": exc}) from None


def record_count(data: bytes) -> int:
    """Return how many rows the file has below its header (blank ones included), for progress bars."""
    return max(sum(1 for _row in records(data)) - 1, 0)


def _csv_records(data: bytes) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(decode_text(data), newline=""))


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(_("The file is not a readable XLSX workbook: %(error)s") % {"error": exc}) from None
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [cell_text(value) for value in values]
    finally:
        workbook.close()


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
