"""Supervisor screens: settlement and write-off proposals, agencies and placements, stage teams."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin, money_column
from cases.choices import OPEN_STAGES
from cases.forms import (
    DecisionForm,
)
from cases.models import (
    Agency,
    AgencyMember,
    Placement,
    Proposal,
    Team,
    case_number,
)
from cases.scoping import CaseScoped, FoundByCaseNumber
from cases.services import (
    proposal_approve,
    proposal_reject,
)


def _case_link(case_id: int) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[case_id]), case_number(case_id))


@admin.register(Proposal)
class ProposalAdmin(CaseScoped, FoundByCaseNumber, ReadOnlyAdmin):
    """The supervisors' queue of settlement and write-off proposals, each decided on its own page."""

    list_display = ["proposed_at", "decide_link", "kind", "amount", "balance", "case_link", "proposed_by", "status"]
    list_filter = ["status", "kind", "proposed_by", "proposed_at"]
    list_select_related = ["proposed_by"]
    search_fields = ["reason"]
    amount = money_column("amount_fen", _("amount"))
    balance = money_column("balance_fen", _("balance when proposed"))

    @admin.display(description=_("proposal"), ordering="id")
    def decide_link(self, obj: Proposal) -> str:
        """Link to the decision page."""
        return format_html('<a href="{}">#{}</a>', reverse("admin:cases_proposal_decide", args=[obj.pk]), obj.pk)

    @admin.display(description=_("case"), ordering="case_id")
    def case_link(self, obj: Proposal) -> str:
        """Link to the case page."""
        return _case_link(obj.case_id)

    def get_urls(self) -> list:
        """Add the decision page."""
        view = self.admin_site.admin_view(self.decide_view)
        return [path("<int:object_id>/decide/", view, name="cases_proposal_decide"), *super().get_urls()]

    def decide_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Show the proposal with its case; approve or reject it (another supervisor than the proposer)."""
        proposal = get_object_or_404(
            self.get_queryset(request).select_related("case__credit_line__customer"), pk=object_id
        )
        form = DecisionForm(request.POST or None)
        may_decide = request.user.has_perm("cases.decide_proposal") and proposal.proposed_by_id != request.user.pk
        if request.method == "POST" and form.is_valid():
            decide = proposal_approve if "approve" in request.POST else proposal_reject
            try:
                decided = decide(proposal=proposal, actor=request.user, note=form.cleaned_data["note"])
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
            else:
                messages.success(
                    request,
                    _("Proposal #%(id)s is now: %(status)s.")
                    % {"id": decided.pk, "status": decided.get_status_display()},
                )
                return HttpResponseRedirect(reverse("admin:cases_proposal_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "proposal": proposal,
            "case": proposal.case,
            "form": form,
            "may_decide": may_decide and proposal.status == "pending",
            "title": _("Decide proposal #%(id)s") % {"id": proposal.pk},
        }
        return TemplateResponse(request, "admin/cases/proposal/decide.html", context)


class AgencyMemberInline(admin.TabularInline):
    """The logins that work for the agency."""

    model = AgencyMember
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Agency)
class AgencyAdmin(SimpleHistoryAdmin):
    """Outside collection agencies: status, contract and commission, with every change kept."""

    list_display = ["name", "status", "contract_start", "contract_end", "commission_rate", "placed_now"]
    list_filter = ["status", "contract_end"]
    search_fields = ["name", "contact_email"]
    inlines = [AgencyMemberInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Count each agency's cases in the same query."""
        from django.db.models import Count, Q

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
        return _case_link(obj.case_id)


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    """The team for each stage, and the workload cap automatic assignment keeps to."""

    list_display = ["name", "stage", "workload_cap", "member_count"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Count each team's agents in the same query."""
        from django.db.models import Count

        return super().get_queryset(request).annotate(agents=Count("members"))

    list_filter = ["stage"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    @admin.display(description=_("agents"), ordering="agents")
    def member_count(self, obj: Team) -> int:
        """Show how many agents the team has."""
        return obj.agents
