"""The contacts list, read-only, and the page that imports contacts from a file."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin, RecordInline, may_see_personal_data
from accounts.validators import mask_mobile
from cases.imports import MAX_ROWS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, contacts_import, may_import_contacts
from cases.models import ComplianceIncident, Contact, case_number
from cases.scoping import CaseScoped, FoundByCaseNumber


class ContactImportForm(forms.Form):
    """The CSV file to import."""

    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Say which encodings and how many contacts a file may have."""
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("UTF-8 or GB18030, with a header row; at most %(max)d contacts.") % {
            "max": MAX_ROWS
        }


class IncidentInline(RecordInline):
    """The rules the contact broke."""

    model = ComplianceIncident
    fields = ["rule", "message", "opened_at", "closed_at"]


@admin.register(Contact)
class ContactAdmin(CaseScoped, FoundByCaseNumber, ReadOnlyAdmin):
    """Every contact, entered or imported: a record, so nothing is added, changed or deleted here."""

    list_display = ["occurred_at", "case_link", "channel", "direction", "party", "outcome", "agent", "source"]
    list_filter = ["channel", "outcome", "source", "party", "occurred_at"]
    search_fields = ["=case__credit_line__number"]
    search_help_text = _("Case number or contract number.")
    list_select_related = ["agent"]
    fields = [
        "case",
        "occurred_at",
        "customer_local_date",
        "channel",
        "direction",
        "party",
        "outcome",
        "number_called",
        "identity_disclosed",
        "notes",
        "recording_reference",
        "agent",
        "source",
        "recorded_at",
    ]
    inlines = [IncidentInline]
    change_list_template = "admin/cases/contact/change_list.html"

    @admin.display(description=_("case"), ordering="case_id")
    def case_link(self, obj: Contact) -> str:
        """Link to the case page (the number comes from the id: no join)."""
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[obj.case_id]), case_number(obj.case_id)
        )

    @admin.display(description=_("number called"))
    def number_called(self, obj: Contact) -> str:
        """Show the number called, masked."""
        return mask_mobile(obj.phone_number)

    def get_fields(self, request: HttpRequest, obj: Contact | None = None) -> list[str]:
        """Show the full number only to viewers allowed to see personal data."""
        names = list(super().get_fields(request, obj))
        if not may_see_personal_data(request):
            return names
        return ["phone_number" if name == "number_called" else name for name in names]

    def get_readonly_fields(self, request: HttpRequest, obj: Contact | None = None) -> list[str]:
        """Every field shown is read-only: a contact is a record."""
        return self.get_fields(request, obj)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Offer the import button to those who may import."""
        extra = {"may_import": may_import_contacts(request.user)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self) -> list:
        """Add the import page (before the object pages, whose pattern would take ``import/``)."""
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="cases_contact_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV file; store every contact or show every bad row and store nothing."""
        if not may_import_contacts(request.user):
            raise PermissionDenied
        form = ContactImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = contacts_import(file=form.cleaned_data["file"], actor=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, result.summary())
                return HttpResponseRedirect(reverse("admin:cases_contact_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Import contacts"),
            "required_columns": REQUIRED_COLUMNS,
            "optional_columns": OPTIONAL_COLUMNS,
        }
        return TemplateResponse(request, "admin/cases/contact/import.html", context)
