"""Dunning policies (editable, with history) and the record of every run."""

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.kernel.admin import DeclaredFiltersOnly, ReadOnlyAdmin, money_column
from backoffice.kernel.approvals.admin import EditsWaitForASecondPerson
from cases.choices import BatchStatus, RunStatus
from cases.dunning.approvals import DUNNING_POLICY_CHANGE
from cases.dunning.models import DunningBatch, DunningPolicy, DunningRun
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
    """Dunning runs with their counts, and, while one runs, its progress: batches done, by worker, the current step."""

    list_display = [
        "id",
        "as_of",
        "status",
        "step",
        "progress",
        "duration",
        "dry_run",
        "opened",
        "escalated_collection",
        "escalated_legal",
        "holds_ended",
        "resolved",
        "unchanged",
        "lines_frozen",
        "started_at",
    ]
    list_filter = ["status", "dry_run", "as_of"]
    date_hierarchy = "as_of"
    readonly_fields = ["progress", "by_worker", "duration"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DunningRun]:
        """Count each run's batches, done and all, in the list's one query."""
        return (
            super()
            .get_queryset(request)
            .annotate(
                batches_total=Count("batches"),
                batches_done=Count("batches", filter=Q(batches__status=BatchStatus.DONE)),
            )
        )

    @admin.display(description=_("batches done"))
    def progress(self, run: DunningRun) -> str:
        """Show the batches done of all the run's batches."""
        return _("%(done)s of %(total)s") % {"done": run.batches_done, "total": run.batches_total}

    @admin.display(description=_("batches done by worker"))
    def by_worker(self, run: DunningRun) -> str:
        """Show, per worker (its host name), how many of the run's batches it did."""
        counts = (
            DunningBatch.objects.filter(run=run, status=BatchStatus.DONE)
            .values_list("worker")
            .annotate(done=Count("id"))
            .order_by("worker")
        )
        return ", ".join(f"{worker or '-'}: {done}" for worker, done in counts) or "-"

    @admin.display(description=_("duration"))
    def duration(self, run: DunningRun) -> str:
        """Show how long the run took, or has been running."""
        running = run.status == RunStatus.RUNNING
        seconds = (timezone.now() - run.started_at).total_seconds() if running else run.seconds
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes // 60:d}:{minutes % 60:02d}:{rest:02d}"
