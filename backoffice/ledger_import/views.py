"""The admin's ledger import: upload a file, read the preview and every problem, confirm, see what was done.

Between the preview and the confirmation the file waits on disk (``staging``), named by a token
in the confirmation form, never in the session. Importing the ledger is for superusers only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backoffice.ledger_import import staging
from backoffice.ledger_import.importing import PREVIEW_ROWS, ledger_file_check, ledger_file_import, may_import_ledger
from backoffice.ledger_import.kinds import KINDS
from backoffice.ledger_import.reading import ledger_file_read, sheet_name

KIND_CHOICES = [
    ("customers", gettext_lazy("Customers")),
    ("lines", gettext_lazy("Credit lines")),
    ("bills", gettext_lazy("Bills")),
    ("payments", gettext_lazy("Payments")),
]
# Where each kind's rows are listed, to land on after an import.
_LISTS = {
    "customers": "admin:accounts_customer_changelist",
    "lines": "admin:accounts_creditline_changelist",
    "bills": "admin:accounts_bill_changelist",
    "payments": "admin:accounts_payment_changelist",
}


class LedgerFileForm(forms.Form):
    """What the file holds, and the file."""

    kind = forms.ChoiceField(label=gettext_lazy("The file holds"), choices=KIND_CHOICES)
    file = forms.FileField(
        label=gettext_lazy("CSV or XLSX file"),
        help_text=gettext_lazy(
            "CSV in UTF-8, GB18030 or UTF-16, or XLSX (the active sheet, or the first visible one), with a header row."
        ),
    )


class ConfirmForm(forms.Form):
    """The staged file to import."""

    kind = forms.ChoiceField(choices=KIND_CHOICES, widget=forms.HiddenInput)
    token = forms.CharField(max_length=64, widget=forms.HiddenInput)


def _allowed(request: HttpRequest) -> None:
    if not may_import_ledger(request.user):
        raise PermissionDenied


def _context(request: HttpRequest, **extra: object) -> dict:
    columns = {
        label: [(column.name, column.alias, column.required) for column in KINDS[kind].columns]
        for kind, label in KIND_CHOICES
    }
    return {**admin.site.each_context(request), "title": _("Import a ledger file"), "columns": columns, **extra}


def upload_view(request: HttpRequest) -> HttpResponse:
    """Take a file and show its first rows and every problem; a file without problems can then be confirmed."""
    _allowed(request)
    form = LedgerFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        try:
            data = ledger_file_read(form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            check = ledger_file_check(data=data, kind=kind)
            token = staging.stage(data, user=request.user, kind=kind) if check.ok else ""
            confirm = ConfirmForm(initial={"kind": kind, "token": token})
            context = _context(
                request, check=check, confirm=confirm, preview_rows=PREVIEW_ROWS, kind=kind, sheet=sheet_name(data)
            )
            return TemplateResponse(request, "admin/ledger_import/preview.html", context)
    return TemplateResponse(request, "admin/ledger_import/upload.html", _context(request, form=form))


@require_POST
def confirm_view(request: HttpRequest) -> HttpResponse:
    """Import the file staged at the preview, then say what was done."""
    _allowed(request)
    form = ConfirmForm(request.POST)
    data = staging.staged(form.data.get("token", ""), user=request.user) if form.is_valid() else None
    if data is None:
        messages.error(request, _("The file to import is no longer kept; upload it again."))
        return HttpResponseRedirect(reverse("ledger_import"))
    kind, token = form.cleaned_data["kind"], form.cleaned_data["token"]
    checked = staging.checked_as(token, data, user=request.user, kind=kind)
    try:
        outcome = ledger_file_import(data=data, kind=kind, actor=request.user, checked=checked)
    except ValidationError as exc:
        for message in exc.messages[:PREVIEW_ROWS]:
            messages.error(request, message)
        return HttpResponseRedirect(reverse("ledger_import"))
    finally:
        staging.unstage(token, user=request.user)
    messages.success(request, outcome.summary())
    return HttpResponseRedirect(reverse(_LISTS[kind]))
