"""The reports in the admin: the index, and each report with its filters, tables, charts and exports."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from backoffice.kernel.money import format_yuan
from backoffice.reports.access import may_read_reports
from backoffice.reports.dashboard import Card, dashboard
from backoffice.reports.export import csv_response, export_rows, xlsx_response
from backoffice.reports.forms import ReportFilterForm
from backoffice.reports.registry import REPORTS
from backoffice.reports.tables import Linked, Money, NotRipe, ReportResult, Share, Table

EXPORTS = {"csv": csv_response, "xlsx": xlsx_response}


def index_view(request: HttpRequest) -> HttpResponse:
    """List the reports with what each shows."""
    if not may_read_reports(request.user):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": _("Reports"), "reports": REPORTS.values()}
    return TemplateResponse(request, "admin/reports/index.html", context)


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The supervisor's morning page: a card a figure, tables and a chart where a figure is a breakdown."""
    if not may_read_reports(request.user):
        raise PermissionDenied
    cards = [_shown_card(card) for card in dashboard()]
    context = {
        **admin.site.each_context(request),
        "title": _("Morning dashboard"),
        "cards": cards,
        "has_charts": any(card["chart"] for card in cards),
    }
    return TemplateResponse(request, "admin/reports/dashboard.html", context)


def _shown_card(card: Card) -> dict:
    chart = card.chart and {"key": card.chart.key, "data_id": f"{card.chart.key}-data", "spec": card.chart.spec}
    return {
        "key": card.key,
        "title": card.title,
        "figure": shown_cell(card.figure),
        "note": card.note,
        "table": card.table and shown_table(card.table),
        "chart": chart,
        "mark": card.mark,
    }


def report_view(request: HttpRequest, name: str) -> HttpResponse:
    """The filters and, when they are valid, the report (or its export with ``?format=csv|xlsx``)."""
    if not may_read_reports(request.user):
        raise PermissionDenied
    spec = REPORTS.get(name)
    if spec is None:
        raise Http404
    form = ReportFilterForm(request.GET, filters=spec.filters)
    context = {**admin.site.each_context(request), "title": spec.title, "spec": spec, "form": form}
    if form.is_valid():
        result = spec.build(form.filters())
        export = EXPORTS.get(form.cleaned_data["format"])
        if export is not None:
            rows = export_rows(title=str(spec.title), described=form.described(), tables=result.tables)
            return export(filename=f"{spec.name}-{_period(form)}", rows=rows)
        context.update(_screen(request, result))
    return TemplateResponse(request, "admin/reports/report.html", context)


def _period(form: ReportFilterForm) -> str:
    filters = form.filters()
    if "day" in form.declared:
        return filters.day.isoformat()
    if "range" in form.declared:
        return f"{filters.first.isoformat()}-{filters.last.isoformat()}"
    return filters.month.strftime("%Y-%m")


def _screen(request: HttpRequest, result: ReportResult) -> dict:
    charts = {chart.table_key: chart for chart in result.charts}
    figures = [{"table": shown_table(table), "charts": _charts_of(result, table.key)} for table in result.tables]
    return {
        "figures": figures,
        "has_charts": bool(charts),
        "export_links": [(kind.upper(), _query_with(request, format=kind)) for kind in EXPORTS],
    }


def _charts_of(result: ReportResult, table_key: str) -> list[dict]:
    return [
        {"key": c.key, "data_id": f"{c.key}-data", "spec": c.spec} for c in result.charts if c.table_key == table_key
    ]


def _query_with(request: HttpRequest, **values: str) -> str:
    query = request.GET.copy()
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


def shown_table(table: Table) -> dict:
    """Return the table with each cell as text, a CSS class and a link, for the template."""
    return {
        "key": table.key,
        "title": table.title,
        "columns": table.columns,
        "rows": [[shown_cell(cell) for cell in row] for row in table.rows],
        "footer": [[shown_cell(cell) for cell in row] for row in table.footer],
    }


def shown_cell(cell: object) -> dict:
    """Return a cell as people read it: yuan, a percentage, a greyed "not yet ripe", or a link to the cases."""
    if isinstance(cell, Linked):
        return {**shown_cell(cell.value), "url": cell.url}
    if isinstance(cell, Money):
        return {"text": format_yuan(cell.fen), "css": "number"}
    if isinstance(cell, Share):
        return {"text": "—" if cell.ratio is None else f"{cell.ratio * 100:.2f}%", "css": "number"}
    if isinstance(cell, NotRipe):
        return {"text": str(cell.label), "css": "not-ripe"}
    if isinstance(cell, int):
        return {"text": f"{cell:,}", "css": "number"}
    return {
        "text": "" if cell is None else str(cell),
        "css": "number" if cell is not None and not isinstance(cell, str) else "",
    }
