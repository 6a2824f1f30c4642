"""Outside agencies: their records, placements, and placing and recalling cases from the case list and page."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from backoffice.kernel.admin import DeclaredFiltersOnly, ReadOnlyAdmin
from backoffice.kernel.approvals.admin import EditsWaitForASecondPerson
from cases.admin.case_page import CasePage, TransitionForm, case_link_html
from cases.agencies.approvals import AGENCY_CHANGE, agency_members_propose
from cases.agencies.models import Agency, AgencyMember, Placement
from cases.agencies.services import case_place, case_recall
from cases.casework.models import Case
from cases.casework.scoping import FoundByCaseNumber
from cases.choices import OPEN_STAGES, AgencyStatus


class PlaceForm(forms.Form):
    """Which agency to place the selected cases with; only approved agencies are offered."""

    agency = forms.ModelChoiceField(
        label=_("Agency"), queryset=Agency.objects.filter(status=AgencyStatus.APPROVED).order_by("name")
    )


class CasePlacementActions(CasePage):
    """Placing cases with an agency and recalling them, in bulk from the case list and one by one from its page."""

    def case_page_urls(self) -> list[URLPattern]:
        """Add the place and recall pages."""
        return [
            self.case_url("place/", self.place_view, "place"),
            self.case_url("recall/", self.recall_view, "recall"),
            *super().case_page_urls(),
        ]

    @admin.action(description=_("Place the selected cases with an agency…"), permissions=["place"])
    def place_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask which agency, listing every case; place all of them or, if one cannot be, none."""

        return self.bulk(
            request,
            queryset,
            form_class=PlaceForm,
            act=lambda case, data: case_place(case=case, agency=data["agency"], actor=request.user),
            done=lambda n, data: (
                ngettext("%(n)d case placed with %(agency)s.", "%(n)d cases placed with %(agency)s.", n)
                % {"n": n, "agency": data["agency"]}
            ),
            action="place_selected",
            title=_("Place these cases with an agency?"),
            explanation=_(
                "The agency's users will see and work these cases; your agents let go of them. "
                "Only an approved agency with a contract valid today can take cases."
            ),
            submit_label=_("Place"),
        )

    @admin.action(description=_("Recall the selected cases from their agency…"), permissions=["place"])
    def recall_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask why, listing every case, then recall each from its agency."""

        return self.bulk(
            request,
            queryset,
            form_class=TransitionForm,
            act=lambda case, data: case_recall(case=case, actor=request.user, reason=data["reason"]),
            done=lambda n, data: ngettext("%(n)d case recalled.", "%(n)d cases recalled.", n) % {"n": n},
            action="recall_selected",
            title=_("Recall these cases from their agency?"),
            explanation=_("The cases come back unassigned, for the stage teams; the reason is kept."),
            submit_label=_("Recall"),
        )

    def has_place_permission(self, request: HttpRequest) -> bool:
        """Place and recall need their own permission (supervisors)."""
        return request.user.has_perm("cases.place_case")

    def place_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Place the case with an approved agency under contract today."""

        def place(case: Case, data: dict) -> str:
            case_place(case=case, agency=data["agency"], actor=request.user)
            return _("Case %(number)s placed with %(agency)s.") % {"number": case.number, "agency": data["agency"]}

        return self.case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("cases.place_case"),
            form_class=PlaceForm,
            title=_("Place with an agency"),
            act=place,
        )

    def recall_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Take the case back from its agency, with the reason."""

        def recall(case: Case, data: dict) -> str:
            case_recall(case=case, actor=request.user, reason=data["reason"])
            return _("Case %(number)s recalled.") % {"number": case.number}

        return self.case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("cases.place_case"),
            form_class=TransitionForm,
            title=_("Recall from agency"),
            act=recall,
        )


def members_after(formset: forms.BaseModelFormSet) -> list[int]:
    """Return the ids of the logins the members' inline leaves, rows marked for deletion left out."""
    return [
        form.cleaned_data["user"].pk
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("user")
    ]


class AgencyMemberInline(admin.TabularInline):
    """The logins that work for the agency."""

    model = AgencyMember
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Agency)
class AgencyAdmin(EditsWaitForASecondPerson, DeclaredFiltersOnly, SimpleHistoryAdmin):
    """Outside collection agencies: an edit of status, contract or commission, or of who works for the agency,
    waits for a second supervisor; every change kept. A new agency starts pending, so it takes no cases yet."""

    list_display = ["name", "status", "contract_start", "contract_end", "commission_rate", "placed_now"]
    list_filter = ["status", "contract_end"]
    search_fields = ["name", "contact_email"]
    inlines = [AgencyMemberInline]
    change_kind = AGENCY_CHANGE

    def get_readonly_fields(self, request: HttpRequest, obj: Agency | None = None) -> list[str]:
        """A new agency is pending: approving it is a change a second supervisor approves."""
        return ["status"] if obj is None else []

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        """Propose a change of an existing agency's members; save a new agency's as usual."""
        members = next((formset for formset in formsets if formset.model is AgencyMember), None)
        if not change or members is None or not members.has_changed():
            super().save_related(request, form, formsets, change)
            return
        agency = form.instance
        # Nothing of the inline is saved; the admin's change message reads what was.
        members.new_objects, members.changed_objects, members.deleted_objects = [], [], []
        try:
            proposal = agency_members_propose(agency=agency, user_ids=members_after(members), actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            agency._proposal_refused = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            return
        if getattr(agency, "_proposed_change", None) is None:
            agency._proposed_change = proposal
        else:
            messages.success(
                request,
                _("The change of members waits for a second person too (change #%(id)s).") % {"id": proposal.pk},
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Count each agency's cases in the same query."""
        return super().get_queryset(request).annotate(placed=Count("cases", filter=Q(cases__stage__in=OPEN_STAGES)))

    @admin.display(description=_("open cases placed"), ordering="placed")
    def placed_now(self, obj: Agency) -> int:
        """Show how many open cases the agency holds."""
        return obj.placed

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Agencies that held cases stay on record; terminate them instead."""
        return False


@admin.register(Placement)
class PlacementAdmin(FoundByCaseNumber, ReadOnlyAdmin):
    """Every placement with an agency and its recall."""

    list_display = ["placed_at", "case_link", "agency", "placed_by", "recalled_at", "recalled_by", "recall_reason"]
    list_filter = ["agency", "placed_at", ("recalled_at", admin.EmptyFieldListFilter)]
    list_select_related = ["agency", "placed_by", "recalled_by"]

    @admin.display(description=_("case"), ordering="case_id")
    def case_link(self, obj: Placement) -> str:
        """Link to the case page."""
        return case_link_html(obj.case_id)
