"""The case list and the case page: everything about a case on one screen, and its actions."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import may_see_personal_data, money_column
from accounts.models import Product
from accounts.services import REVEALABLE, customer_reveal
from backoffice.pagination import LargeTablePaginator
from cases.choices import MOVE_LABELS, DpdBucket, PromiseStatus
from cases.contact_rules import customer_zone
from cases.forms import (
    AssignForm,
    ContactForm,
    HoldForm,
    PlaceForm,
    PromiseForm,
    ProposalForm,
    RevealForm,
    TransitionForm,
)
from cases.models import (
    Case,
    Promise,
    agency_id_of,
    case_id_from_number,
)
from cases.selectors import case_bills, case_timeline
from cases.services import (
    ACTIONS,
    CaseConflict,
    case_assign,
    case_hold,
    case_place,
    case_recall,
    contact_log,
    promise_record,
    proposal_submit,
)
from letters.forms import RequestLetterForm
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


class ProductPolicyFilter(admin.SimpleListFilter):
    """Filter cases by product or by dunning policy, both listed from one query of the (small) product table."""

    title = _("product or policy")
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer each product, then each policy the products use."""
        products = list(Product.objects.select_related("policy").order_by("code"))
        policies = {product.policy_id: product.policy for product in products}
        return [(f"p{product.pk}", str(product)) for product in products] + [
            (f"d{policy.pk}", _("Policy: %(name)s") % {"name": policy}) for policy in policies.values()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep cases on the chosen product, or on any product of the chosen policy."""
        value = self.value() or ""
        if value[:1] == "p" and value[1:].isdigit():
            return queryset.filter(credit_line__product_id=int(value[1:]))
        if value[:1] == "d" and value[1:].isdigit():
            return queryset.filter(credit_line__product__policy_id=int(value[1:]))
        return queryset


class PromiseStatusFilter(admin.SimpleListFilter):
    """Filter cases by the state of their promises to pay."""

    title = _("promise")
    parameter_name = "promise"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer pending, kept, broken, and no promise at all."""
        return [*PromiseStatus.choices, ("none", _("No promise"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep cases with a promise in the chosen state (or with none)."""
        value = self.value()
        if value == "none":
            return queryset.filter(~Exists(Promise.objects.filter(case=OuterRef("pk"))))
        if value in PromiseStatus.values:
            return queryset.filter(Exists(Promise.objects.filter(case=OuterRef("pk"), status=value)))
        return queryset


# Bulk actions list every case they change on their confirmation page; past this, in rounds.
BULK_LIMIT = 500


def _act_on_each(cases: list[Case], data: dict, act: Callable[[Case, dict], object]) -> None:
    """Call ``act`` on every case; raise one ``ValidationError`` naming each case refused, and why."""
    errors = []
    for case in cases:
        try:
            act(case, data)
        except ValidationError as exc:
            errors.extend(f"{case.number}: {message}" for message in exc.messages)
    if errors:
        raise ValidationError(errors)


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
        "agency",
        "opened_on",
    ]
    list_display_links = ["number", "customer_name"]
    list_filter = [
        "stage",
        DpdBucketFilter,
        PromiseStatusFilter,
        ProductPolicyFilter,
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
    balance = money_column("balance_fen", _("overdue balance"))
    actions = ["assign_selected", "place_selected", "recall_selected"]

    def _bulk(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        form_class: type,
        act: Callable[[Case, dict], object],
        done: Callable[[int, dict], str],
        action: str,
        title: str,
        explanation: str,
        submit_label: str,
    ) -> HttpResponse | None:
        """List every selected case with a form; on confirmation call ``act`` (a service) on each, all or none.

        Every case a service refuses is named on the page with why, and then none is changed.
        """
        cases = list(queryset.with_customer().select_related("agency").order_by("id")[: BULK_LIMIT + 1])
        form = form_class(request.POST if request.POST.get("confirm") == "yes" else None)
        problems = []
        if len(cases) > BULK_LIMIT:
            cases = cases[:BULK_LIMIT]
            problems = [
                _(
                    "Only the first %(n)d selected cases are listed and will be changed; run the action again for the rest."
                )
                % {"n": BULK_LIMIT}
            ]
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    _act_on_each(cases, form.cleaned_data, act)
                messages.success(request, done(len(cases), form.cleaned_data))
                return None
            except (ValidationError, PermissionDenied) as exc:
                problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "explanation": explanation,
            "submit_label": submit_label,
            "action": action,
            "cases": cases,
            "form": form,
            "problems": problems,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/case/bulk_confirmation.html", context)

    @admin.action(description=_("Assign the selected cases…"), permissions=["change"])
    def assign_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask whom to give the cases to, listing every case, then assign each through the service."""

        return self._bulk(
            request,
            queryset,
            form_class=AssignForm,
            act=lambda case, data: case_assign(case=case, actor=request.user, assignee=data["assignee"]),
            done=lambda n, data: (
                ngettext("%(n)d case assigned to %(who)s.", "%(n)d cases assigned to %(who)s.", n)
                % {"n": n, "who": data["assignee"] or _("nobody")}
            ),
            action="assign_selected",
            title=_("Assign these cases?"),
            explanation=_("The cases below will be given to the person you choose; each change is recorded."),
            submit_label=_("Assign"),
        )

    @admin.action(description=_("Place the selected cases with an agency…"), permissions=["place"])
    def place_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask which agency, listing every case; place all of them or, if one cannot be, none."""

        return self._bulk(
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

        return self._bulk(
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

    @admin.display(description=_("ID number"))
    def customer_id_number(self, obj: Case) -> str:
        """Show the customer's national ID number, masked."""
        return obj.credit_line.customer.masked_national_id

    @admin.display(description=_("ID number"))
    def customer_id_number_full(self, obj: Case) -> str:
        """Show the customer's full ID number, for viewers allowed to see it."""
        return obj.credit_line.customer.national_id

    @admin.display(description=_("customer's local time"))
    def customer_time(self, obj: Case) -> str:
        """Show the time where the customer is, which the contact window follows."""
        customer = obj.credit_line.customer
        local = timezone.now().astimezone(customer_zone(customer.time_zone))
        return f"{local:%Y-%m-%d %H:%M} ({customer.time_zone})"

    _FULL = {"customer_mobile": "customer_mobile_full", "customer_id_number": "customer_id_number_full"}

    def _unmask(self, request: HttpRequest, names: list[str]) -> list[str]:
        if not may_see_personal_data(request):
            return names
        return [self._FULL.get(name, name) for name in names]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        """Show full mobiles only to viewers allowed to see them."""
        return self._unmask(request, list(super().get_list_display(request)))

    def get_fieldsets(self, request: HttpRequest, obj: Case | None = None) -> list:
        """Show full numbers on the case page only to viewers allowed to see them."""
        return [
            (title, {**options, "fields": self._unmask(request, list(options["fields"]))})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Case | None = None) -> list[str]:
        """Keep everything but the assignee read-only; the stage moves only by the buttons."""
        names = [name for _title, options in self.fieldsets for name in options["fields"] if name != "assignee"]
        if obj is not None and obj.agency_id is not None:
            names.append("assignee")  # the agency works it; recall it first
        return self._unmask(request, names)

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
            path("<int:object_id>/propose/", self.admin_site.admin_view(self.propose_view), name="cases_case_propose"),
            path("<int:object_id>/place/", self.admin_site.admin_view(self.place_view), name="cases_case_place"),
            path("<int:object_id>/recall/", self.admin_site.admin_view(self.recall_view), name="cases_case_recall"),
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
        offered = {*ACTIONS, "hold"}
        return [(name, label) for name, label in MOVE_LABELS.items() if name in names and name in offered]

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
            "bills": bills,
            "owed": owed,
            "timeline": case_timeline(case),
        }

    def propose_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Propose a settlement or a write-off; it waits for a supervisor who is not the proposer."""

        def propose(case: Case, data: dict) -> str:
            proposal = proposal_submit(case=case, actor=request.user, **data)
            return _("%(kind)s proposed; it waits for a supervisor.") % {"kind": proposal.get_kind_display()}

        return self._case_form(
            request,
            object_id,
            allowed=lambda case: case.is_open and request.user.has_perm("cases.add_proposal"),
            form_class=ProposalForm,
            title=_("Propose a settlement or write-off"),
            act=propose,
        )

    def place_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Place the case with an approved agency under contract today."""

        def place(case: Case, data: dict) -> str:
            case_place(case=case, agency=data["agency"], actor=request.user)
            return _("Case %(number)s placed with %(agency)s.") % {"number": case.number, "agency": data["agency"]}

        return self._case_form(
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

        return self._case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("cases.place_case"),
            form_class=TransitionForm,
            title=_("Recall from agency"),
            act=recall,
        )

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
