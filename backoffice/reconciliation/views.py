"""The reconciliation in the admin: pick the days, read what came in and went out per day with the totals, or take
it away as CSV. Supervisors and superusers (``may_read_reconciliation``)."""

import csv
import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.kernel.events import EventType
from backoffice.kernel.money import fen_to_yuan, format_yuan
from backoffice.reconciliation.report import (
    MAX_DAYS,
    DayFigures,
    Reconciliation,
    check_range,
    may_read_reconciliation,
    reconciliation_report,
)

IN_COLUMNS = [
    ("customers", gettext_lazy("Customers")),
    ("credit_lines", gettext_lazy("Credit lines")),
    ("bills_new", gettext_lazy("New bills")),
    ("bills_amended", gettext_lazy("Amended bills")),
    ("payments", gettext_lazy("Payments")),
    ("payments_fen", gettext_lazy("Payments (yuan)")),
    ("reversals", gettext_lazy("Reversals")),
    ("reversals_fen", gettext_lazy("Reversals (yuan)")),
]
_MONEY = {"payments_fen", "reversals_fen"}


class DayRangeForm(forms.Form):
    """The first and the last day, both included (today by default)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Name the fields as the API does: ``from`` is a Python keyword, so they are added here."""
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        date = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["from"] = forms.DateField(label=gettext_lazy("From"), initial=today, widget=date)
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("To"),
            initial=today,
            widget=date,
            help_text=gettext_lazy("Business days in %(zone)s, both included; at most %(days)d days.")
            % {"zone": timezone.get_current_timezone_name(), "days": MAX_DAYS},
        )

    def clean(self) -> dict:
        """Check the range by the report's own rule."""
        cleaned = super().clean()
        if "from" in cleaned and "to" in cleaned:
            try:
                check_range(first=cleaned["from"], last=cleaned["to"])
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    self.add_error(field, errors)
        return cleaned


def _cells(figures: DayFigures) -> tuple[list[str], list[int]]:
    values = [
        format_yuan(getattr(figures, name)) if name in _MONEY else getattr(figures, name) for name, _l in IN_COLUMNS
    ]
    return values, [figures.events[kind] for kind in EventType.values]


def _table(report: Reconciliation) -> dict:
    rows = [(day.day, *_cells(day)) for day in report.days]
    return {
        "in_headers": [label for _name, label in IN_COLUMNS],
        "out_headers": list(EventType.choices),
        "rows": rows,
        "totals": _cells(report.totals),
    }


def _csv_values(figures: DayFigures) -> list[object]:
    values = [
        fen_to_yuan(getattr(figures, name)) if name in _MONEY else getattr(figures, name) for name, _l in IN_COLUMNS
    ]
    return [*values, *(figures.events[kind] for kind in EventType.values)]


def reconciliation_csv(report: Reconciliation) -> HttpResponse:
    """The report as CSV (UTF-8 with a byte-order mark, which Excel needs to read Chinese): a row per day and the totals."""
    name = f"reconciliation-{report.first.isoformat()}-{report.last.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Date"), *(str(label) for _name, label in IN_COLUMNS), *EventType.values])
    for day in report.days:
        writer.writerow([day.day.isoformat(), *_csv_values(day)])
    writer.writerow([_("Total"), *_csv_values(report.totals)])
    return response


def report_view(request: HttpRequest) -> HttpResponse:
    """The form and, for a valid range, the table (or its CSV with ``?format=csv``)."""
    if not may_read_reconciliation(request.user):
        raise PermissionDenied
    today = timezone.localdate().isoformat()
    form = DayRangeForm(request.GET if request.GET else {"from": today, "to": today})
    context = {**admin.site.each_context(request), "title": _("Reconciliation"), "form": form}
    if form.is_valid():
        report = reconciliation_report(first=form.cleaned_data["from"], last=form.cleaned_data["to"])
        if request.GET.get("format") == "csv":
            return reconciliation_csv(report)
        context.update(report=report, table=_table(report), csv_query=_csv_query(form.cleaned_data))
    return TemplateResponse(request, "admin/reconciliation/report.html", context)


def _csv_query(cleaned: dict[str, datetime.date]) -> str:
    return f"from={cleaned['from'].isoformat()}&to={cleaned['to'].isoformat()}&format=csv"
