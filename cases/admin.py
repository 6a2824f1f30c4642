"""Collections screens: cases with their history and stage buttons, policies, runs."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin, RecordInline, may_see_personal_data, money_column
from accounts.services import REVEALABLE, customer_reveal
from backoffice.pagination import LargeTablePaginator
from cases.choices import MOVE_LABELS, DpdBucket
from cases.forms import AssignForm, ContactForm, HoldForm, PromiseForm, RevealForm, TransitionForm
from cases.models import (
    Case,
    CaseAssignment,
    CaseTransition,
    ComplianceIncident,
    Contact,
    DunningPolicy,
    DunningRun,
    MyCase,
    Promise,
    RulePack,
    case_id_from_number,
)
from cases.priority import priority_parts
from cases.services import (
    ACTIONS,
    CaseConflict,
    case_assign,
    case_claim_next,
    case_hold,
    contact_log,
    promise_record,
)
from letters.forms import RequestLetterForm
from letters.models import Letter
from letters.services import letter_draft

_BUCKET_RANGES = {
    DpdBucket.D1_30: (1, 30),
    DpdBucket.D31_60: (31, 60),
    DpdBucket.D61_90: (61, 90),
    DpdBucket.D91_PLUS: (91, None),
}


class DpdBucketFilter(admin.SimpleListFilter):
    """Filter cases by days-past-due band."""

    title = _("days past due")
    parameter_name = "dpd"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer the bands."""
        return list(DpdBucket.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep cases whose DPD lies in the chosen band."""
        if self.value() not in _BUCKET_RANGES:
            return queryset
        low, high = _BUCKET_RANGES[self.value()]
        queryset = queryset.filter(days_past_due__gte=low)
        return queryset if high is None else queryset.filter(days_past_due__lte=high)


class TransitionInline(RecordInline):
    """The case's stage history, oldest first, read-only."""

    model = CaseTransition
    fields = ["created_at", "from_stage", "to_stage", "actor", "reason", "run"]
    ordering = ["created_at", "id"]


class LetterInline(RecordInline):
    """The case's letters and where each stands."""

    model = Letter
    fields = ["letter_link", "kind", "language", "status", "requested_at", "sent_at", "limitation_interrupted_on"]
    ordering = ["-requested_at"]

    @admin.display(description=_("letter"))
    def letter_link(self, obj: object) -> str:
        """Link to the letter's review page."""
        return format_html('<a href="{}">{}</a>', reverse("admin:letters_letter_change", args=[obj.pk]), obj.number)


class ContactInline(RecordInline):
    """The case's contacts, newest first."""

    model = Contact
    fields = ["occurred_at", "channel", "party", "outcome", "agent", "identity_disclosed", "notes", "source"]
    ordering = ["-occurred_at"]


class PromiseInline(RecordInline):
    """The case's promises to pay and whether they were kept."""

    model = Promise
    fields = ["created_at", "amount", "due_date", "grace_until", "status", "created_by", "settled_on"]
    amount = money_column("amount_fen", _("amount"))


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
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
        "opened_on",
    ]
    list_display_links = ["number", "customer_name"]
    list_filter = [
        "stage",
        DpdBucketFilter,
        # Plain related filters: the "related only" kind scans every case for the choices.
        "credit_line__product",
        "credit_line__product__policy",
        "assignee",
    ]
    search_fields = [
        "credit_line__customer__name",
        "=credit_line__customer__mobile",
        "credit_line__customer__national_id__endswith",
        "=credit_line__number",
    ]
    search_help_text = _("Customer name, full mobile, last four of the ID number, contract or case number.")
    list_select_related = ["credit_line__customer", "credit_line__product__policy", "assignee"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per filter choice
    paginator = LargeTablePaginator
    ordering = ["-days_past_due", "id"]
    fields = [
        "number",
        "credit_line",
        "customer_name",
        "customer_mobile",
        "stage",
        "days_past_due",
        "balance",
        "assignee",
        "hold_reason",
        "hold_note",
        "hold_until",
        "close_reason",
        "opened_on",
        "closed_at",
        "last_run",
    ]
    readonly_fields = [name for name in fields if name != "assignee"]
    raw_id_fields = ["assignee"]
    inlines = [TransitionInline, ContactInline, PromiseInline, LetterInline]
    balance = money_column("balance_fen", _("overdue balance"))
    actions = ["assign_selected"]

    @admin.action(description=_("Assign the selected cases…"), permissions=["change"])
    def assign_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask whom to give the cases to, listing every case, then assign each through the service."""
        cases = list(queryset.with_customer().order_by("id")[:500])
        form = AssignForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            for case in cases:
                case_assign(case=case, actor=request.user, assignee=form.cleaned_data["assignee"])
            messages.success(
                request,
                ngettext("%(n)d case assigned to %(who)s.", "%(n)d cases assigned to %(who)s.", len(cases))
                % {"n": len(cases), "who": form.cleaned_data["assignee"] or _("nobody")},
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Assign these cases?"),
            "cases": cases,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/case/assign_confirmation.html", context)

    @admin.display(description=_("case"), ordering="id")
    def number(self, obj: Case) -> str:
        """Show the case number."""
        return obj.number

    @admin.display(description=_("customer"), ordering="credit_line__customer__name")
    def customer_name(self, obj: Case) -> str:
        """Show the customer's name."""
        return obj.credit_line.customer.name

    @admin.display(description=_("mobile"))
    def customer_mobile(self, obj: Case) -> str:
        """Show the customer's mobile, masked."""
        return obj.credit_line.customer.masked_mobile

    @admin.display(description=_("mobile"))
    def customer_mobile_full(self, obj: Case) -> str:
        """Show the customer's full mobile, for viewers allowed to see it."""
        return obj.credit_line.customer.mobile

    def _unmask(self, request: HttpRequest, names: list[str]) -> list[str]:
        if not may_see_personal_data(request):
            return names
        return ["customer_mobile_full" if name == "customer_mobile" else name for name in names]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        """Show full mobiles only to viewers allowed to see them."""
        return self._unmask(request, list(super().get_list_display(request)))

    def get_fields(self, request: HttpRequest, obj: Case | None = None) -> list[str]:
        """Show the full mobile on the case page only to viewers allowed to see it."""
        return self._unmask(request, list(super().get_fields(request, obj)))

    def get_readonly_fields(self, request: HttpRequest, obj: Case | None = None) -> list[str]:
        """Keep everything but the assignee read-only; the stage moves only by the buttons."""
        return self._unmask(request, list(super().get_readonly_fields(request, obj)))

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

    def get_urls(self) -> list:
        """Add the stage-change page."""
        urls = super().get_urls()
        custom = [
            path(
                "<int:object_id>/move/<str:transition>/",
                self.admin_site.admin_view(self.move_view),
                name="cases_case_move",
            ),
            path(
                "<int:object_id>/promise/",
                self.admin_site.admin_view(self.promise_view),
                name="cases_case_promise",
            ),
            path(
                "<int:object_id>/reveal/<str:field>/",
                self.admin_site.admin_view(self.reveal_view),
                name="cases_case_reveal",
            ),
            path(
                "<int:object_id>/contact/",
                self.admin_site.admin_view(self.log_contact_view),
                name="cases_case_log_contact",
            ),
            path(
                "<int:object_id>/letter/",
                self.admin_site.admin_view(self.request_letter_view),
                name="cases_case_request_letter",
            ),
        ]
        return custom + urls

    def log_contact_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Log a contact; a contact that breaks a rule is refused with the rule and when it becomes allowed."""

        def log(case: Case, data: dict) -> str:
            contact_log(case=case, actor=request.user, **data)
            return _("Contact logged.")

        return self._case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("cases.add_contact"),
            form_class=ContactForm,
            title=_("Log a contact"),
            act=log,
        )

    def promise_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Record a promise to pay; the case is held until the promised date plus grace."""

        def record(case: Case, data: dict) -> str:
            promise_record(case=case, actor=request.user, **data)
            return _("Promise recorded; escalation waits until it is judged.")

        return self._case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("cases.add_promise"),
            form_class=PromiseForm,
            title=_("Record a promise to pay"),
            act=record,
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

    def request_letter_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Choose an active template and draft a letter for the case (refused on hold or closed)."""

        def draft(case: Case, data: dict) -> str:
            letter = letter_draft(case=case, template=data["template"], requested_by=request.user)
            return _("Letter %(number)s drafted; it awaits approval.") % {"number": letter.number}

        return self._case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("letters.request_letter"),
            form_class=RequestLetterForm,
            title=_("Request a letter"),
            act=draft,
        )

    def available_moves(self, request: HttpRequest, case: Case) -> list[tuple[str, str]]:
        """Return (transition name, label) for the moves this user may make on this case now."""
        names = {t.name for t in case.get_available_user_stage_transitions(request.user)}
        return [(name, label) for name, label in MOVE_LABELS.items() if name in names]

    def save_model(self, request: HttpRequest, obj: Case, form: object, change: bool) -> None:
        """Save what the page can change (the assignee) through the service."""
        case_assign(case=obj, actor=request.user, assignee=obj.assignee)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Offer the stage buttons on the case page."""
        case = self.get_object(request, object_id)
        extra = {
            "moves": self.available_moves(request, case) if case else [],
            "may_request_letter": bool(case) and case.is_open and request.user.has_perm("letters.request_letter"),
            "may_log_contact": bool(case) and case.is_open and request.user.has_perm("cases.add_contact"),
            "may_reveal": bool(case) and request.user.has_perm("accounts.reveal_personal_data"),
            "may_promise": bool(case) and case.is_open and request.user.has_perm("cases.add_promise"),
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def move_view(self, request: HttpRequest, object_id: int, transition: str) -> HttpResponse:
        """Confirm a stage change with its reason, then call the service."""

        def move(case: Case, data: dict) -> str:
            if transition == "hold":
                case_hold(case=case, actor=request.user, **data)
            else:
                ACTIONS[transition](case=case, actor=request.user, reason=data["reason"])
            return _("Case %(number)s is now %(stage)s.") % {"number": case.number, "stage": case.get_stage_display()}

        return self._case_form(
            request,
            object_id,
            # Refuse anything not offered, including hand-crafted posts for transitions the user lacks.
            allowed=lambda case: transition in dict(self.available_moves(request, case)),
            form_class=HoldForm if transition == "hold" else TransitionForm,
            title=MOVE_LABELS.get(transition, ""),
            act=move,
        )

    def _case_form(
        self,
        request: HttpRequest,
        object_id: int,
        *,
        allowed: Callable[[Case], bool],
        form_class: type,
        title: str,
        act: Callable[[Case, dict], str],
    ) -> HttpResponse:
        """Show a form about one case; on a valid post call ``act`` (a service) and go back to the case page.

        Service errors land on the form, keyed by its own field names or not keyed at all.
        """
        case = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not allowed(case):
            raise PermissionDenied
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                messages.success(request, act(case, form.cleaned_data))
            except ValidationError as exc:
                form.add_error(None, exc)
            except CaseConflict as exc:
                messages.error(request, str(exc))
                return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
            else:
                return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "case": case,
            "form": form,
            "title": title,
            "move_label": title,
        }
        return TemplateResponse(request, "admin/cases/case/move.html", context)


@admin.register(CaseTransition)
class CaseTransitionAdmin(ReadOnlyAdmin):
    """Every stage change, for audit."""

    list_display = ["created_at", "case", "from_stage", "to_stage", "actor", "run"]
    list_filter = ["to_stage", "from_stage", "created_at"]
    search_fields = ["reason"]
    list_select_related = ["actor", "run"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per filter choice

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Find transitions by case number too."""
        case_id = case_id_from_number(search_term)
        if case_id is not None:
            return queryset.filter(case_id=case_id), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(DunningPolicy)
class DunningPolicyAdmin(SimpleHistoryAdmin):
    """Dunning policies, editable by supervisors; every change kept with who and when."""

    list_display = [
        "code",
        "name",
        "reminder_from_dpd",
        "collection_from_dpd",
        "legal_from_dpd",
        "legal_min_balance",
        "freeze_line_on_collection",
        "updated_at",
    ]
    search_fields = ["code", "name"]
    legal_min_balance = money_column("legal_min_balance_fen", _("minimum balance for legal action"))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Policies in use by products are kept; retire one by moving its products."""
        return False


@admin.register(DunningRun)
class DunningRunAdmin(ReadOnlyAdmin):
    """Dunning runs with their counts."""

    list_display = [
        "id",
        "as_of",
        "status",
        "dry_run",
        "opened",
        "escalated_collection",
        "escalated_legal",
        "holds_ended",
        "resolved",
        "unchanged",
        "lines_frozen",
        "seconds",
        "started_at",
    ]
    list_filter = ["status", "dry_run", "as_of"]
    date_hierarchy = "as_of"


@admin.register(RulePack)
class RulePackAdmin(SimpleHistoryAdmin):
    """Collection rule packs, editable by supervisors, every change kept."""

    list_display = ["code", "name", "window_start", "window_end", "daily_connected_cap", "daily_attempt_cap"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Packs in use are kept: point the policies elsewhere instead."""
        return False


@admin.register(ComplianceIncident)
class ComplianceIncidentAdmin(admin.ModelAdmin):
    """Rules broken by imported contacts, for supervisors to follow up."""

    list_display = ["opened_at", "rule", "case_number", "agent", "message", "closed_at"]
    list_filter = ["rule", "opened_at", ("closed_at", admin.EmptyFieldListFilter)]
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


@admin.register(CaseAssignment)
class CaseAssignmentAdmin(ReadOnlyAdmin):
    """Every (re)assignment of a case: from whom, to whom, by whom."""

    list_display = ["assigned_at", "case", "assigned_from", "assigned_to", "actor"]
    list_filter = ["assigned_at", "assigned_to"]
    list_select_related = ["case", "assigned_from", "assigned_to", "actor"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Find assignments by case number."""
        case_id = case_id_from_number(search_term)
        if case_id is not None:
            return queryset.filter(case_id=case_id), False
        return queryset, False


@admin.register(MyCase)
class MyCaseAdmin(admin.ModelAdmin):
    """An agent's landing page: their open cases by priority, and the Work next case button."""

    list_display = [
        "number",
        "customer_name",
        "stage",
        "days_past_due",
        "balance",
        "priority_score",
        "last_contact_at",
        "hold_until",
    ]
    list_filter = ["stage", DpdBucketFilter, ("hold_until", admin.EmptyFieldListFilter)]
    search_fields = ["credit_line__customer__name", "=credit_line__number"]
    list_select_related = ["credit_line__customer"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_list_template = "admin/cases/mycase/change_list.html"
    balance = money_column("balance_fen", _("overdue balance"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """The user's open cases, with their priority."""
        return Case.objects.for_agent(request.user).with_priority()

    def get_ordering(self, request: HttpRequest) -> list[str]:
        """Highest priority first (the model's own order is by days past due)."""
        return ["-priority", "id"]

    @admin.display(description=_("case"), ordering="id")
    def number(self, obj: Case) -> str:
        """Link to the case page."""
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[obj.pk]), obj.number)

    @admin.display(description=_("customer"))
    def customer_name(self, obj: Case) -> str:
        """Show the customer's name."""
        return obj.credit_line.customer.name

    @admin.display(description=_("priority"), ordering="-priority")
    def priority_score(self, obj: Case) -> str:
        """Show the score and how it is made up."""
        parts = priority_parts(obj)
        explained = " + ".join(f"{value} {PRIORITY_LABELS[name]}" for name, value in parts.items())
        return format_html('<span title="{}">{}</span>', explained, obj.priority)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Cases are opened by the dunning run."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Cases are worked on their own page."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Cases are never deleted."""
        return False

    def get_urls(self) -> list:
        """Add Work next case."""
        view = self.admin_site.admin_view(self.work_next_view)
        return [path("next/", view, name="cases_mycase_next"), *super().get_urls()]

    def work_next_view(self, request: HttpRequest) -> HttpResponse:
        """Claim the highest-priority case nobody else is working and open it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        case = case_claim_next(agent=request.user)
        if case is None:
            messages.info(request, _("Nothing to work right now: every open case is on hold or being worked."))
            return HttpResponseRedirect(reverse("admin:cases_mycase_changelist"))
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))


PRIORITY_LABELS = {
    "balance": _("for the balance"),
    "days_past_due": _("for days past due"),
    "stage": _("for the stage"),
    "since_last_contact": _("for days since the last contact"),
    "broken_promises": _("for broken promises"),
}


@admin.register(Promise)
class PromiseAdmin(ReadOnlyAdmin):
    """Promises to pay, with each agent's kept rate for supervisors."""

    list_display = ["created_at", "case", "amount", "due_date", "status", "created_by", "settled_on"]
    list_filter = ["status", "created_by", "due_date"]
    list_select_related = ["case", "created_by"]
    amount = money_column("amount_fen", _("amount"))
    change_list_template = "admin/cases/promise/change_list.html"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Add the kept rate per agent over judged promises."""
        from django.db.models import Count, Q

        rates = (
            Promise.objects.exclude(status="pending")
            .values("created_by__username")
            .annotate(judged=Count("id"), kept=Count("id", filter=Q(status="kept")))
            .order_by("created_by__username")
        )
        rows = [
            {
                "agent": r["created_by__username"],
                "judged": r["judged"],
                "kept": r["kept"],
                "rate": round(100 * r["kept"] / r["judged"]),
            }
            for r in rates
        ]
        return super().changelist_view(request, {**(extra_context or {}), "kept_rates": rows})
from cases import contact_admin  # noqa: E402, F401  (the contacts list and import page)
