"""Contacts and the collection rules: the contact list and import, logging a contact from the case page,
compliance incidents, rule packs and the prohibited-phrase lists."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.validators import mask_mobile
from backoffice.kernel.admin import DeclaredFiltersOnly, MaskedPersonalData, ReadOnlyAdmin, RecordInline
from backoffice.kernel.approvals.admin import EditsWaitForASecondPerson, proposal_response
from backoffice.kernel.pagination import LargeTablePaginator
from cases.admin.case_page import CasePage, case_link_html
from cases.casework.models import Case
from cases.casework.scoping import CaseScoped, FoundByCaseNumber
from cases.choices import ContactChannel, ContactDirection, ContactOutcome, ContactParty
from cases.contacts.approvals import RULE_PACK_CHANGE, phrase_list_propose
from cases.contacts.imports import MAX_ROWS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, contacts_import, may_import_contacts
from cases.contacts.models import ComplianceIncident, Contact, ContactRefusal, ProhibitedPhraseList, RulePack
from cases.contacts.services import contact_log


class ContactForm(forms.Form):
    """Log a contact; the collection rules are checked before it is stored."""

    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=ContactDirection.choices)
    party = forms.ChoiceField(label=_("Party"), choices=ContactParty.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    # As long as the API takes: the number is checked and stored in its normal form by ``contact_log``.
    phone_number = forms.CharField(label=_("Number called"), required=False, max_length=64)
    identity_disclosed = forms.BooleanField(label=_("I said which institution I act for"), required=False)
    notes = forms.CharField(
        label=_("Notes / message"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    recording_reference = forms.CharField(label=_("Recording reference"), required=False, max_length=100)
    follow_up_on = forms.DateField(
        label=_("Follow up on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class CaseContactActions(CasePage):
    """*Log a contact* on the case page."""

    def case_page_urls(self) -> list[URLPattern]:
        """Add the contact page."""
        return [self.case_url("contact/", self.log_contact_view, "log_contact"), *super().case_page_urls()]

    def log_contact_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Log a contact; a contact that breaks a rule is refused with the rule and when it becomes allowed."""

        def log(case: Case, data: dict) -> str:
            contact_log(case=case, actor=request.user, **data)
            return _("Contact logged.")

        return self.case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("cases.add_contact"),
            form_class=ContactForm,
            title=_("Log a contact"),
            act=log,
        )


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
class ContactAdmin(MaskedPersonalData, CaseScoped, FoundByCaseNumber, ReadOnlyAdmin):
    """Every contact, entered or imported: a record, so nothing is added, changed or deleted here."""

    masked_fields = {"phone_number": ("phone_number", _("number called"), mask_mobile)}
    list_display = [
        "occurred_at",
        "case_link",
        "channel",
        "direction",
        "party",
        "outcome",
        "agent",
        "source",
        "imported_by",
    ]
    list_filter = ["channel", "outcome", "source", "party", "occurred_at"]
    search_fields = ["=case__credit_line__number"]
    search_help_text = _("Case number or contract number.")
    list_select_related = ["agent", "imported_by"]
    fields = [
        "case",
        "occurred_at",
        "customer_local_date",
        "channel",
        "direction",
        "party",
        "outcome",
        "phone_number",
        "identity_disclosed",
        "notes",
        "recording_reference",
        "agent",
        "source",
        "imported_by",
        "recorded_at",
    ]
    inlines = [IncidentInline]
    change_list_template = "admin/cases/contact/change_list.html"

    @admin.display(description=_("case"), ordering="case_id")
    def case_link(self, obj: Contact) -> str:
        """Link to the case page (the number comes from the id: no join)."""
        return case_link_html(obj.case_id)

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


@admin.register(RulePack)
class RulePackAdmin(EditsWaitForASecondPerson, DeclaredFiltersOnly, SimpleHistoryAdmin):
    """Collection rule packs: a supervisor's edit waits for a second supervisor; every change kept."""

    change_kind = RULE_PACK_CHANGE

    list_display = [
        "code",
        "name",
        "window_start",
        "window_end",
        "daily_connected_cap",
        "daily_attempt_cap",
        "daily_message_cap",
        "weekly_message_cap",
    ]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Packs in use are kept: point the policies elsewhere instead."""
        return False


@admin.register(ComplianceIncident)
class ComplianceIncidentAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Rules broken by imported contacts, for supervisors to follow up."""

    list_display = ["opened_at", "rule", "case_number", "agent", "message", "closed_at"]
    # The agent and the case's agency: the compliance report's drill-down by agent and agency.
    list_filter = [
        "rule",
        "opened_at",
        ("closed_at", admin.EmptyFieldListFilter),
        "contact__agent",
        "contact__case__agency",
    ]
    search_fields = ["rule", "message"]
    list_select_related = ["contact__agent", "contact__case"]
    readonly_fields = ["contact", "rule", "message", "opened_at"]
    fields = [*readonly_fields, "closed_at"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("case"))
    def case_number(self, obj: ComplianceIncident) -> str:
        """Show the contact's case."""
        return obj.contact.case.number

    @admin.display(description=_("agent"))
    def agent(self, obj: ComplianceIncident) -> str:
        """Show who made the contact, if known."""
        return str(obj.contact.agent or "—")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Incidents are opened by the rules."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Incidents are records."""
        return False


@admin.register(ContactRefusal)
class ContactRefusalAdmin(CaseScoped, ReadOnlyAdmin):
    """Contacts agents entered that a rule refused: the rule, who tried and when, nothing of the contact."""

    list_display = ["refused_at", "rule", "case_link", "channel", "agent"]
    list_filter = ["rule", "refused_at", "agent", "channel"]
    list_select_related = ["agent"]
    fields = ["refused_at", "rule", "case", "channel", "agent"]

    @admin.display(description=_("case"), ordering="case_id")
    def case_link(self, obj: ContactRefusal) -> str:
        """Link to the case page (the number comes from the id: no join)."""
        return case_link_html(obj.case_id)

    def get_readonly_fields(self, request: HttpRequest, obj: ContactRefusal | None = None) -> list[str]:
        """Every field shown is read-only: a refusal is a record."""
        return self.get_fields(request, obj)


@admin.register(ProhibitedPhraseList)
class ProhibitedPhraseListAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Phrase lists are versioned: a change is a new version, the newest is in force once a second person approves."""

    list_display = ["language", "version", "created_at", "created_by"]
    list_filter = ["language"]
    readonly_fields = ["version", "created_at", "created_by"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """Start a new version from the newest list of the language (Chinese by default)."""
        language = request.GET.get("language", "zh-hans")
        latest = ProhibitedPhraseList.objects.filter(language=language).order_by("-version").first()
        return {"language": language, "phrases": latest.phrases if latest else ""}

    def save_model(self, request: HttpRequest, obj: ProhibitedPhraseList, form: object, change: bool) -> None:
        """Propose the list as the language's next version; a second legal reviewer puts it in force."""
        try:
            obj._proposed_change = phrase_list_propose(language=obj.language, phrases=obj.phrases, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            obj._proposal_refused = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)

    def log_addition(self, request: HttpRequest, obj: ProhibitedPhraseList, message: object) -> None:
        """Nothing was added yet: the proposal is the record."""

    def response_add(self, request: HttpRequest, obj: ProhibitedPhraseList, post_url_continue: str | None = None):
        """Send the maker to their proposed change, or back to the form with the reason it was refused."""
        return proposal_response(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A version in force is never edited: add a new one."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Versions are kept as the record of what was in force."""
        return False
