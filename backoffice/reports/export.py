"""One exporter for every report: its tables as CSV or XLSX, with the filters in the file's header rows.

A text cell that a spreadsheet would read as a formula (it starts with = + - @, a tab or a carriage return)
is written as text, so that a name sent in by the lending system cannot run in a supervisor's Excel.
"""

import csv
import datetime
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook

from backoffice.kernel.money import fen_to_yuan
from backoffice.reports.tables import Linked, Money, NotRipe, Share, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def looks_like_formula(value: str) -> bool:
    """Return whether a spreadsheet would evaluate ``value`` typed into a cell."""
    return value.startswith(FORMULA_STARTS)


def plain_value(cell: object) -> object:
    """Return a cell as a spreadsheet holds it: yuan and ratios as decimals, counts as integers, the rest as text."""
    if isinstance(cell, Linked):
        return plain_value(cell.value)
    if isinstance(cell, Money):
        return fen_to_yuan(cell.fen)
    if isinstance(cell, Share):
        return cell.ratio
    if isinstance(cell, NotRipe):
        return str(cell.label)
    if cell is None or isinstance(cell, int | Decimal | datetime.date):
        return cell
    return str(cell)


def export_rows(*, title: str, described: list[tuple[str, str]], tables: list[Table]) -> list[list[object]]:
    """Return the file's rows: the report and its filters, then each table after a blank row."""
    rows: list[list[object]] = [[_("Report"), title], *([label, value] for label, value in described)]
    for table in tables:
        rows += [[], [table.title], list(table.columns)]
        rows += [[plain_value(cell) for cell in row] for row in [*table.rows, *table.footer]]
    return rows


def _csv_text(value: object) -> object:
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return "" if value is None else value


def csv_response(*, filename: str, rows: list[list[object]]) -> HttpResponse:
    """Return the rows as CSV (UTF-8 with a byte-order mark, which Excel needs to read Chinese)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
    return response


def xlsx_response(*, filename: str, rows: list[list[object]]) -> HttpResponse:
    """Return the rows as one XLSX sheet; text cells are typed as strings so that none is evaluated."""
    workbook = Workbook()
    sheet = workbook.active
    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=row_number, column=column)
            cell.value = value
            if isinstance(value, str):
                # openpyxl turns a leading "=" into a formula; a string cell is shown, never evaluated.
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
