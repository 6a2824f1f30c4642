"""Who works which case: an agent's queue (My cases, Work next case), stage teams, assignments and bulk assigning."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from backoffice.kernel.admin import DeclaredFiltersOnly, ReadOnlyAdmin, money_column
from backoffice.kernel.roles import AGENT, SUPERVISOR
from cases.admin.case_page import CasePage
from cases.admin.filters import DpdBucketFilter
from cases.admin.promises import PromiseStatusFilter
from cases.casework.models import Case
from cases.casework.scoping import FoundByCaseNumber
from cases.workload.models import CaseAssignment, MyCase, Team
from cases.workload.priority import priority_parts
from cases.workload.services import case_assign, case_claim_next


class AssignForm(forms.Form):
    """Whom to give the selected cases to (empty: nobody)."""

    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.filter(is_active=True, groups__name__in=[AGENT, SUPERVISOR])
        .distinct()
        .order_by("username"),
        required=False,
        empty_label=_("— nobody —"),
    )


class CaseAssignActions(CasePage):
    """The case list's bulk assignment (supervisors)."""

    @admin.action(description=_("Assign the selected cases…"), permissions=["change"])
    def assign_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask whom to give the cases to, listing every case, then assign each through the service."""

        return self.bulk(
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
        case = case_claim_next(actor=request.user)
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


@admin.register(Team)
class TeamAdmin(DeclaredFiltersOnly, SimpleHistoryAdmin):
    """The team for each stage, and the workload cap automatic assignment keeps to."""

    list_display = ["name", "stage", "workload_cap", "member_count"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Count each team's agents in the same query."""
        return super().get_queryset(request).annotate(agents=Count("members"))

    list_filter = ["stage"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    @admin.display(description=_("agents"), ordering="agents")
    def member_count(self, obj: Team) -> int:
        """Show how many agents the team has."""
        return obj.agents


@admin.register(CaseAssignment)
class CaseAssignmentAdmin(FoundByCaseNumber, ReadOnlyAdmin):
    """Every (re)assignment of a case: from whom, to whom, by whom."""

    list_display = ["assigned_at", "case", "assigned_from", "assigned_to", "actor"]
    list_filter = ["assigned_at", "assigned_to"]
    list_select_related = ["case", "assigned_from", "assigned_to", "actor"]
