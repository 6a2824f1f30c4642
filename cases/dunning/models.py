"""Dunning policies (the stage thresholds, editable with history) and the record of each daily run."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.choices import BatchStatus, NightStep, RunStatus, Stage
from cases.contacts.models import RulePack


class DunningPolicy(models.Model):
    """Stage thresholds in days past due, and what entering each stage does. Editable, with history."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    reminder_from_dpd = models.PositiveSmallIntegerField(_("reminders from DPD"), default=1)
    collection_from_dpd = models.PositiveSmallIntegerField(_("agent collection from DPD"), default=31)
    legal_from_dpd = models.PositiveSmallIntegerField(_("legal recovery from DPD"), default=61)
    legal_min_balance_fen = models.BigIntegerField(
        _("minimum balance for legal action (fen)"),
        default=0,
        help_text=_("Below this overdue balance a case stays in agent collection."),
    )
    freeze_line_on_collection = models.BooleanField(_("freeze the credit line on entering collection"), default=True)
    rule_pack = models.ForeignKey(
        RulePack,
        verbose_name=_("collection rules"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text=_("Empty: the mainland China pack."),
    )
    legal_letter_template = models.SlugField(
        _("letter template for the legal stage"),
        max_length=64,
        blank=True,
        help_text=_("Code of the letter template drafted when a case enters legal recovery; empty for none."),
    )
    promise_grace_days = models.PositiveSmallIntegerField(
        _("grace after a promised date (days)"),
        default=3,
        help_text=_("Payments received up to this many days after the promised date still keep the promise."),
    )
    max_hold_days = models.PositiveSmallIntegerField(
        _("longest hold (days)"), default=30, help_text=_("How far ahead a hold may be set to expire.")
    )
    message_vulnerable = models.BooleanField(
        _("send automated messages to vulnerable customers"),
        default=False,
        db_default=False,
        help_text=_("Off: a customer flagged for hardship or vulnerability gets no automated message."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dunning policy")
        verbose_name_plural = _("dunning policies")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reminder_from_dpd__gte=1)
                & Q(collection_from_dpd__gt=F("reminder_from_dpd"))
                & Q(legal_from_dpd__gt=F("collection_from_dpd")),
                name="policy_thresholds_increase",
            ),
            models.CheckConstraint(condition=Q(legal_min_balance_fen__gte=0), name="policy_min_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Refuse thresholds that do not rise from reminder to collection to legal."""
        if not 1 <= self.reminder_from_dpd < self.collection_from_dpd < self.legal_from_dpd:
            raise ValidationError(
                {
                    "collection_from_dpd": _(
                        "Thresholds must rise: reminder %(r)s < collection %(c)s < legal %(l)s, reminder at least 1."
                    )
                    % {"r": self.reminder_from_dpd, "c": self.collection_from_dpd, "l": self.legal_from_dpd}
                }
            )

    def threshold_for(self, stage: str) -> int:
        """Return the DPD from which ``stage`` applies."""
        return {
            Stage.REMINDER: self.reminder_from_dpd,
            Stage.COLLECTION: self.collection_from_dpd,
            Stage.LEGAL: self.legal_from_dpd,
        }[stage]


class DunningRun(models.Model):
    """One daily dunning run: its date, how it ended and what it changed."""

    as_of = models.DateField(_("as of"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    lines_examined = models.PositiveIntegerField(_("lines examined"), default=0)
    opened = models.PositiveIntegerField(_("opened"), default=0)
    escalated_collection = models.PositiveIntegerField(_("to collection"), default=0)
    escalated_legal = models.PositiveIntegerField(_("to legal"), default=0)
    holds_ended = models.PositiveIntegerField(_("holds ended"), default=0)
    resolved = models.PositiveIntegerField(_("resolved"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    lines_frozen = models.PositiveIntegerField(_("lines frozen"), default=0)
    promises_kept = models.PositiveIntegerField(_("promises kept"), default=0)
    promises_broken = models.PositiveIntegerField(_("promises broken"), default=0)
    settlements_completed = models.PositiveIntegerField(_("settlements completed"), default=0)
    recalled = models.PositiveIntegerField(_("recalled from agencies"), default=0)
    assigned = models.PositiveIntegerField(_("assigned to agents"), default=0)
    letters_drafted = models.PositiveIntegerField(_("letters drafted"), default=0, db_default=0)
    messages_planned = models.PositiveIntegerField(_("messages planned"), default=0, db_default=0)
    seconds = models.FloatField(_("seconds"), default=0)
    error = models.TextField(_("error"), blank=True)
    # The night's step marker: how many of its steps are done, and the one under way.
    steps_done = models.PositiveSmallIntegerField(_("steps done"), default=0, db_default=0)
    step = models.CharField(
        _("current step"), max_length=32, choices=NightStep.choices, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("dunning run")
        verbose_name_plural = _("dunning runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.as_of}"

    def summary(self) -> dict:
        """Return what the run changed, as printed by ``run_dunning --json``."""
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "opened": self.opened,
            "escalated": {Stage.COLLECTION.value: self.escalated_collection, Stage.LEGAL.value: self.escalated_legal},
            "holds_ended": self.holds_ended,
            "resolved": self.resolved,
            "unchanged": self.unchanged,
            "lines_frozen": self.lines_frozen,
            "promises": {"kept": self.promises_kept, "broken": self.promises_broken},
            "settlements_completed": self.settlements_completed,
            "recalled": self.recalled,
            "assigned": self.assigned,
            "letters_drafted": self.letters_drafted,
            "messages_planned": self.messages_planned,
            "lines_examined": self.lines_examined,
            "seconds": round(self.seconds, 3),
        }


class DunningLease(models.Model):
    """The one lease a dunning run holds while it runs: taken by a conditional write, renewed as it goes.

    A single row (``name`` = ``night``). Free when ``holder`` is empty; a holder that stopped
    renewing is taken over once ``expires_at`` has passed, its run then marked abandoned.
    """

    name = models.CharField(_("name"), max_length=16, unique=True)
    holder = models.CharField(_("holder"), max_length=200, blank=True)
    run = models.ForeignKey(
        DunningRun, verbose_name=_("dunning run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acquired_at = models.DateTimeField(_("acquired"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("dunning lease")
        verbose_name_plural = _("dunning leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '-'}"


class DunningBatch(models.Model):
    """One credit-line id range of a run: written when the run starts, done when its transaction commits."""

    run = models.ForeignKey(DunningRun, verbose_name=_("dunning run"), on_delete=models.CASCADE, related_name="batches")
    first_id = models.BigIntegerField(_("first credit line id"))
    last_id = models.BigIntegerField(_("last credit line id"))
    status = models.CharField(_("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    tally = models.JSONField(_("tally"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("dunning batch")
        verbose_name_plural = _("dunning batches")
        ordering = ["run", "first_id"]
        constraints = [models.UniqueConstraint(fields=["run", "first_id"], name="dunning_batch_one_per_range")]
        indexes = [models.Index(fields=["run", "status"], name="dunning_batch_run_status")]

    def __str__(self) -> str:
        return f"#{self.run_id} {self.first_id}–{self.last_id}"
