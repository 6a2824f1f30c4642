"""The case list and the case page: everything about a case on one screen, its stage buttons, and every stage change.

The case page's other actions come from their sub-domains' admin modules (contacts, promises,
settlements, agencies, workload, letters), each a mixin on ``CasePage``.
"""

import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.services import REVEALABLE, customer_reveal, customers_found_by_number
from accounts.validators import mask_mobile, mask_national_id
from backoffice.kernel.admin import MaskedPersonalData, ReadOnlyAdmin, money_column
from backoffice.kernel.pagination import LargeTablePaginator
from cases.admin.agencies import CasePlacementActions
from cases.admin.case_page import CasePage, TransitionForm
from cases.admin.cohort_filters import StageEntryFilter
from cases.admin.contacts import CaseContactActions
from cases.admin.filters import DpdBucketFilter, MonthBucketFilter, ProductPolicyFilter
from cases.admin.letters import CaseLetterActions
from cases.admin.people import PeopleFigureFilter
from cases.admin.promises import CasePromiseActions, PromiseStatusFilter
from cases.admin.settlements import CaseProposalActions
from cases.admin.workload import CaseAssignActions
from cases.agencies.models import agency_id_of
from cases.casework.approvals import case_close_propose, closing_waiting
from cases.casework.models import Case, CaseTransition
from cases.casework.numbers import case_id_from_number
from cases.casework.scoping import CaseScoped, FoundByCaseNumber
from cases.casework.selectors import case_bills, case_timeline
from cases.casework.services import ACTIONS, case_hold
from cases.choices import MOVE_LABELS, HoldReason
from cases.contacts.rules import known_zone
from cases.outreach.selectors import message_events
from cases.workload.services import case_assign
from letters.selectors import letter_events


class HoldForm(forms.Form):
    """Putting a case on hold needs why, a note and when the hold ends."""

    reason_code = forms.ChoiceField(label=_("Why"), choices=HoldReason.choices)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    until = forms.DateField(
        label=_("Hold until (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=lambda: timezone.localdate() + datetime.timedelta(days=7),
    )


class RevealForm(forms.Form):
    """Why the agent needs the full number; the reason is kept with who saw it."""

    reason = forms.CharField(
        label=_("Why do you need the full number?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500
    )


class CaseStageActions(CasePage):
    """The stage buttons, and revealing a full number with a reason."""

    def case_page_urls(self) -> list[URLPattern]:
        """Add the stage-change and reveal pages."""
        return [
            self.case_url("move/<str:transition>/", self.move_view, "move"),
            self.case_url("reveal/<str:field>/", self.reveal_view, "reveal"),
            *super().case_page_urls(),
        ]

    def available_moves(self, request: HttpRequest, case: Case) -> list[tuple[str, str]]:
        """Return (transition name, label) for the moves this user may make on this case now."""
        names = {t.name for t in case.get_available_user_stage_transitions(request.user)}
        offered = {*ACTIONS, "close", "hold"}
        return [(name, label) for name, label in MOVE_LABELS.items() if name in names and name in offered]

    def move_view(self, request: HttpRequest, object_id: int, transition: str) -> HttpResponse:
        """Confirm a stage change with its reason, then call the service."""

        def move(case: Case, data: dict) -> str:
            if transition == "close":
                proposal = case_close_propose(case=case, actor=request.user, reason=data["reason"])
                return _("Closing case %(number)s waits for a second supervisor (change #%(id)s).") % {
                    "number": case.number,
                    "id": proposal.pk,
                }
            if transition == "hold":
                case_hold(case=case, actor=request.user, **data)
            else:
                ACTIONS[transition](case=case, actor=request.user, reason=data["reason"])
            return _("Case %(number)s is now %(stage)s.") % {"number": case.number, "stage": case.get_stage_display()}

        return self.case_form(
            request,
            object_id,
            # Refuse anything not offered, including hand-crafted posts for transitions the user lacks.
            allowed=lambda case: transition in dict(self.available_moves(request, case)),
            form_class=HoldForm if transition == "hold" else TransitionForm,
            title=MOVE_LABELS.get(transition, ""),
            act=move,
        )

    def reveal_view(self, request: HttpRequest, object_id: int, field: str) -> HttpResponse:
        """Show a full ID or mobile number once, after a reason; every reveal leaves an audit row."""
        case = get_object_or_404(self.get_queryset(request), pk=object_id)
        if field not in REVEALABLE or not request.user.has_perm("accounts.reveal_personal_data"):
            raise PermissionDenied
        form, revealed = RevealForm(request.POST or None), None
        if request.method == "POST" and form.is_valid():
            try:
                revealed = customer_reveal(
                    customer=case.credit_line.customer,
                    actor=request.user,
                    field=field,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "case": case,
            "form": form,
            "revealed": revealed,
            "title": _("Reveal the %(what)s") % {"what": REVEALABLE[field]},
            "move_label": _("Reveal"),
        }
        return TemplateResponse(request, "admin/cases/case/reveal.html", context)


@admin.register(Case)
class CaseAdmin(
    CaseStageActions,
    CaseContactActions,
    CasePromiseActions,
    CaseLetterActions,
    CaseProposalActions,
    CasePlacementActions,
    CaseAssignActions,
    MaskedPersonalData,
    admin.ModelAdmin,
):
    """The case list and page. Stage buttons show only the moves the user may make, and call the services."""

    list_display = [
        "number",
        "customer_name",
        "customer_mobile",
        "product",
        "stage",
        "days_past_due",
        "balance",
        "assignee",
        "agency",
        "opened_on",
    ]
    list_display_links = ["number", "customer_name"]
    list_filter = [
        "stage",
        DpdBucketFilter,
        MonthBucketFilter,
        PeopleFigureFilter,
        PromiseStatusFilter,
        ProductPolicyFilter,
        StageEntryFilter,
        # Plain related filters: the "related only" kind scans every case for the choices.
        "assignee",
        "agency",
    ]
    search_fields = [
        "credit_line__customer__name",
        "=credit_line__customer__mobile",
        "credit_line__customer__national_id__endswith",
        "=credit_line__number",
    ]
    search_help_text = _("Customer name, full mobile, last four of the ID number, contract or case number.")
    list_select_related = ["credit_line__customer", "credit_line__product__policy", "assignee", "agency"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per filter choice
    paginator = LargeTablePaginator
    ordering = ["-days_past_due", "id"]
    fieldsets = [
        (
            _("Customer"),
            {"fields": ["customer_name", "customer_mobile", "customer_id_number", "customer_time", "credit_line"]},
        ),
        (
            _("Case"),
            {
                "fields": [
                    "number",
                    "stage",
                    "days_past_due",
                    "balance",
                    "assignee",
                    "agency",
                    "follow_up_on",
                    "broken_promises",
                    "last_contact_at",
                    "hold_reason",
                    "hold_note",
                    "hold_until",
                    "close_reason",
                    "opened_on",
                    "closed_at",
                    "last_run",
                ]
            },
        ),
    ]
    raw_id_fields = ["assignee"]
    masked_fields = {
        "customer_mobile": ("credit_line__customer__mobile", _("mobile"), mask_mobile),
        "customer_id_number": ("credit_line__customer__national_id", _("ID number"), mask_national_id),
    }
    masked_search = {
        "credit_line__customer__mobile": customers_found_by_number,
        "credit_line__customer__national_id": customers_found_by_number,
    }
    balance = money_column("balance_fen", _("overdue balance"))
    actions = ["assign_selected", "place_selected", "recall_selected"]

    @admin.display(description=_("case"), ordering="id")
    def number(self, obj: Case) -> str:
        """Show the case number."""
        return obj.number

    @admin.display(description=_("customer"), ordering="credit_line__customer__name")
    def customer_name(self, obj: Case) -> str:
        """Show the customer's name."""
        return obj.credit_line.customer.name

    @admin.display(description=_("customer's local time"))
    def customer_time(self, obj: Case) -> str:
        """Show the time where the customer is, which the contact window follows."""
        customer = obj.credit_line.customer
        zone = known_zone(customer.time_zone)
        if zone is None:
            return _("unknown time zone %(value)r: no contact until it is corrected") % {"value": customer.time_zone}
        return f"{timezone.now().astimezone(zone):%Y-%m-%d %H:%M} ({customer.time_zone})"

    def get_readonly_fields(self, request: HttpRequest, obj: Case | None = None) -> list[str]:
        """Keep everything but the assignee read-only; the stage moves only by the buttons."""
        names = [name for _title, options in self.fieldsets for name in options["fields"] if name != "assignee"]
        if obj is not None and obj.agency_id is not None:
            names.append("assignee")  # the agency works it; recall it first
        return list(dict.fromkeys([*self._shown_as(names), *super().get_readonly_fields(request, obj)]))

    def get_list_filter(self, request: HttpRequest) -> list:
        """Agency users filter their own cases; the lender's staff and other agencies are not listed to them."""
        if not request.user.has_perm("cases.view_all_cases") and agency_id_of(request.user) is not None:
            return [f for f in self.list_filter if f not in ("assignee", "agency")]
        return list(self.list_filter)

    @admin.display(description=_("product"), ordering="credit_line__product__code")
    def product(self, obj: Case) -> str:
        """Show the product code."""
        return obj.credit_line.product.code

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """The cases this user may see, with the line, customer, product and policy."""
        return super().get_queryset(request).visible_to(request.user).with_customer()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Also find a case by its number (``C00000042``)."""
        case_id = case_id_from_number(search_term)
        if case_id is not None:
            return queryset.filter(pk=case_id), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Cases are opened by the dunning run."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Cases are closed, never deleted."""
        return False

    def save_model(self, request: HttpRequest, obj: Case, form: object, change: bool) -> None:
        """Save what the page can change (the assignee) through the service."""
        case_assign(case=obj, actor=request.user, assignee=obj.assignee)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Put everything about the case on one screen: the buttons, the bills and balance, the timeline."""
        case = self.get_object(request, object_id)
        extra = self._case_page_context(request, case) if case else {}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def _case_page_context(self, request: HttpRequest, case: Case) -> dict:
        user = request.user
        bills, owed = case_bills(case)
        return {
            "moves": self.available_moves(request, case),
            "may_request_letter": case.is_open and user.has_perm("letters.request_letter"),
            "may_log_contact": case.is_open and user.has_perm("cases.add_contact"),
            "may_reveal": user.has_perm("accounts.reveal_personal_data"),
            "may_promise": case.is_open and user.has_perm("cases.add_promise"),
            "may_propose": case.is_open and user.has_perm("cases.add_proposal"),
            "may_place": case.is_open and case.agency_id is None and user.has_perm("cases.place_case"),
            "may_recall": case.agency_id is not None and user.has_perm("cases.place_case"),
            "closing_waiting": closing_waiting(case),
            "may_see_changes": user.has_perm("backoffice.view_changeproposal"),
            "bills": bills,
            "owed": owed,
            "timeline": case_timeline(case, more=[letter_events, message_events]),
        }


@admin.register(CaseTransition)
class CaseTransitionAdmin(CaseScoped, FoundByCaseNumber, ReadOnlyAdmin):
    """Every stage change, for audit."""

    list_display = ["created_at", "case", "from_stage", "to_stage", "actor", "run"]
    list_filter = ["to_stage", "from_stage", "created_at"]
    search_fields = ["reason"]
    list_select_related = ["case", "actor", "run"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per filter choice
