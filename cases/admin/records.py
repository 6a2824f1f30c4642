"""Records and settings of the collection process: transitions, policies, runs, rule packs, incidents, assignments."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import ReadOnlyAdmin, money_column
from backoffice.pagination import LargeTablePaginator
from cases.models import (
    CaseAssignment,
    CaseTransition,
    ComplianceIncident,
    DunningPolicy,
    DunningRun,
    RulePack,
)
from cases.scoping import CaseScoped, FoundByCaseNumber


@admin.register(CaseTransition)
class CaseTransitionAdmin(CaseScoped, FoundByCaseNumber, ReadOnlyAdmin):
    """Every stage change, for audit."""

    list_display = ["created_at", "case", "from_stage", "to_stage", "actor", "run"]
    list_filter = ["to_stage", "from_stage", "created_at"]
    search_fields = ["reason"]
    list_select_related = ["case", "actor", "run"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per filter choice


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
class CaseAssignmentAdmin(FoundByCaseNumber, ReadOnlyAdmin):
    """Every (re)assignment of a case: from whom, to whom, by whom."""

    list_display = ["assigned_at", "case", "assigned_from", "assigned_to", "actor"]
    list_filter = ["assigned_at", "assigned_to"]
    list_select_related = ["case", "assigned_from", "assigned_to", "actor"]
