"""Dunning policies (editable, with history) and the record of every run."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.forms.formsets import BaseFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.kernel.admin import DeclaredFiltersOnly, ReadOnlyAdmin, money_column
from backoffice.kernel.approvals.admin import EditsWaitForASecondPerson
from cases.choices import BatchStatus, RunStatus
from cases.dunning.approvals import DUNNING_POLICY_CHANGE
from cases.dunning.models import DunningBatch, DunningPolicy, DunningRun
from cases.outreach.approvals import reminder_cadence_propose
from cases.outreach.models import ReminderRule


class ReminderRuleInline(admin.TabularInline):
    """The policy's cadence of messages, one line per template, channel and timing; each line checked on save."""

    model = ReminderRule
    fields = ["kind", "stage", "channel", "days", "every_days", "template_code"]
    extra = 0


@admin.register(DunningPolicy)
class DunningPolicyAdmin(EditsWaitForASecondPerson, DeclaredFiltersOnly, SimpleHistoryAdmin):
    """Dunning policies: a supervisor's edit of a policy waits for a second supervisor; every change kept.

    An edit of the cadence of reminders (the inline) on an existing policy is proposed too, as one
    change of the whole cadence, for a second supervisor: a new policy's is saved with it.
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

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: BaseFormSet, change: bool) -> None:
        """Propose an existing policy's edited cadence as one change; save a new policy's as usual."""
        if not change or formset.model is not ReminderRule or not formset.has_changed():
            super().save_formset(request, form, formset, change)
            return
        kept = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        # Nothing of the formset is saved: the change message names no rule.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        policy = DunningPolicy.objects.get(pk=form.instance.pk)
        try:
            form.instance._proposed_change = reminder_cadence_propose(policy=policy, rules=kept, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            refused = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            form.instance._proposal_refused = refused


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
