"""An agent's queue (My cases, Work next case) and promises to pay with kept rates."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin, money_column
from cases.admin.case import DpdBucketFilter, PromiseStatusFilter
from cases.models import (
    Case,
    MyCase,
    Promise,
)
from cases.priority import priority_parts
from cases.scoping import CaseScoped
from cases.services import (
    case_claim_next,
)


@admin.register(MyCase)
class MyCaseAdmin(ReadOnlyAdmin):
    """An agent's landing page: their open cases by priority, and the Work next case button.

    Read-only: cases are opened by the dunning run and worked on their own page.
    """

    list_display = [
        "number",
        "customer_name",
        "stage",
        "days_past_due",
        "balance",
        "priority_score",
        "follow_up",
        "last_contact_at",
        "hold_until",
    ]
    list_filter = ["stage", DpdBucketFilter, PromiseStatusFilter, ("hold_until", admin.EmptyFieldListFilter)]
    search_fields = ["credit_line__customer__name", "=credit_line__number"]
    list_select_related = ["credit_line__customer"]
    change_list_template = "admin/cases/mycase/change_list.html"
    # Also the order the column headers show (they read this attribute, not get_ordering).
    ordering = ["-queue_rank", "id"]
    balance = money_column("balance_fen", _("overdue balance"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """The user's open cases, with their priority and whether a follow-up is due."""
        return Case.objects.for_agent(request.user)

    def get_ordering(self, request: HttpRequest) -> list[str]:
        """Follow-ups due first, then highest priority (the model's own order is by days past due)."""
        return ["-queue_rank", "id"]

    @admin.display(description=_("follow up"), ordering="follow_up_on")
    def follow_up(self, obj: Case) -> str:
        """Show the follow-up date, marked when it is due."""
        if obj.follow_up_on is None:
            return "—"
        if obj.follow_up_on <= timezone.localdate():
            return format_html('<strong class="follow-up-due">{} ⏰</strong>', obj.follow_up_on)
        return str(obj.follow_up_on)

    @admin.display(description=_("case"), ordering="id")
    def number(self, obj: Case) -> str:
        """Link to the case page."""
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[obj.pk]), obj.number)

    @admin.display(description=_("customer"))
    def customer_name(self, obj: Case) -> str:
        """Show the customer's name."""
        return obj.credit_line.customer.name

    @admin.display(description=_("priority"), ordering="queue_rank")
    def priority_score(self, obj: Case) -> str:
        """Show the score and how it is made up."""
        parts = priority_parts(obj)
        explained = " + ".join(f"{value} {PRIORITY_LABELS[name]}" for name, value in parts.items())
        return format_html('<span title="{}">{}</span>', explained, sum(parts.values()))

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
class PromiseAdmin(CaseScoped, ReadOnlyAdmin):
    """Promises to pay, with each agent's kept rate for supervisors."""

    list_display = ["created_at", "case", "amount", "due_date", "status", "created_by", "settled_on"]
    list_filter = ["status", "created_by", "due_date"]
    list_select_related = ["case", "created_by"]
    amount = money_column("amount_fen", _("amount"))
    change_list_template = "admin/cases/promise/change_list.html"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Add the kept rate per agent over judged promises, for supervisors (who see every case)."""
        from django.db.models import Count, Q

        if not request.user.has_perm("cases.view_all_cases"):
            return super().changelist_view(request, extra_context)
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
