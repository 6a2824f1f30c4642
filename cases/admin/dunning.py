"""Dunning policies (editable, with history) and the record of every run."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.kernel.admin import DeclaredFiltersOnly, ReadOnlyAdmin, money_column
from backoffice.kernel.approvals.admin import EditsWaitForASecondPerson
from cases.dunning.approvals import DUNNING_POLICY_CHANGE
from cases.dunning.models import DunningPolicy, DunningRun
from cases.outreach.models import ReminderRule


class ReminderRuleInline(admin.TabularInline):
    """The policy's cadence of messages, one line per template, channel and timing; each line checked on save."""

    model = ReminderRule
    fields = ["kind", "stage", "channel", "days", "every_days", "template_code"]
    extra = 0


@admin.register(DunningPolicy)
class DunningPolicyAdmin(EditsWaitForASecondPerson, DeclaredFiltersOnly, SimpleHistoryAdmin):
    """Dunning policies: a supervisor's edit of a policy waits for a second supervisor; every change kept.

    The cadence of reminders (the inline) is saved as before: it says which messages go out, not when
    contact is allowed or how far a case escalates.
    """

    change_kind = DUNNING_POLICY_CHANGE

    list_display = [
        "code",
        "name",
        "reminder_from_dpd",
        "collection_from_dpd",
        "legal_from_dpd",
        "legal_min_balance",
        "freeze_line_on_collection",
        "message_vulnerable",
        "updated_at",
    ]
    search_fields = ["code", "name"]
    inlines = [ReminderRuleInline]
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
