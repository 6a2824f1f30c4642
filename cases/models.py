"""Collection cases, the dunning policy that moves them, and the record of every move."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from accounts.money import format_yuan
from cases.choices import (
    LADDER,
    LIVE_PROPOSAL_STATUSES,
    OPEN_STAGES,
    AgencyStatus,
    ContactChannel,
    ContactDirection,
    ContactOutcome,
    ContactParty,
    ContactSource,
    HoldReason,
    PromiseStatus,
    ProposalKind,
    ProposalStatus,
    RunStatus,
    Stage,
)


class RulePack(models.Model):
    """The collection rules a product's contacts follow (compliance.md): parameters, editable, with history."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    window_start = models.TimeField(_("contact window opens"), default=datetime.time(8, 0))
    window_end = models.TimeField(_("contact window closes"), default=datetime.time(22, 0))
    daily_connected_cap = models.PositiveSmallIntegerField(
        _("connected voice contacts per customer per day"), default=3
    )
    daily_attempt_cap = models.PositiveSmallIntegerField(_("unanswered attempts per number per day"), default=6)
    third_party_after_failures = models.PositiveSmallIntegerField(
        _("failed attempts before a third party may be contacted"), default=3
    )
    rolling_call_cap = models.PositiveSmallIntegerField(
        _("calls per debt in the rolling period"),
        null=True,
        blank=True,
        help_text=_("Empty: no rolling limit. Regulation F presumes harassment above 7 calls in 7 days."),
    )
    rolling_days = models.PositiveSmallIntegerField(_("rolling period (days)"), default=7)
    quiet_days_after_conversation = models.PositiveSmallIntegerField(
        _("days without calls after a conversation"),
        null=True,
        blank=True,
        help_text=_("Empty: no such rule. Regulation F: no call within 7 days after a conversation about the debt."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collection rule pack")
        verbose_name_plural = _("collection rule packs")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(window_start__lt=F("window_end")), name="rule_pack_window_order")
        ]

    def __str__(self) -> str:
        return self.name


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
    seconds = models.FloatField(_("seconds"), default=0)
    error = models.TextField(_("error"), blank=True)

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
            "lines_examined": self.lines_examined,
            "seconds": round(self.seconds, 3),
        }


class Team(models.Model):
    """The agents who work one stage; new and escalated cases are shared among them under a workload cap."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    stage = models.CharField(_("stage"), max_length=12, choices=[(s, Stage(s).label) for s in LADDER])
    workload_cap = models.PositiveIntegerField(
        _("open cases per agent at most"),
        default=500,
        help_text=_("Automatic assignment stops giving an agent cases once they hold this many open ones."),
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("agents"), related_name="teams")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collection team")
        verbose_name_plural = _("collection teams")
        ordering = ["stage", "name"]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    """An outside collection agency: cases are placed with it only while it is approved and under contract."""

    name = models.CharField(_("registered name"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=AgencyStatus.choices, default=AgencyStatus.PENDING)
    contract_start = models.DateField(_("contract starts"))
    contract_end = models.DateField(_("contract ends"))
    commission_rate = models.DecimalField(
        _("commission, percent of what is collected"), max_digits=5, decimal_places=2, default=0
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collection agency")
        verbose_name_plural = _("collection agencies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(contract_start__lte=F("contract_end")), name="agency_contract_order"),
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0) & Q(commission_rate__lte=100), name="agency_commission_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def holds_cases_on(day: datetime.date, *, via: str = "") -> Q:
        """The rule, as a query: an agency holds cases only while approved and under contract on ``day``.

        ``via`` is the path from the rows filtered to their agency. ``refusal_on`` says the same in
        words, for one agency; a test holds the two to the same answer.
        """
        prefix = f"{via}__" if via else ""
        return Q(
            **{
                f"{prefix}status": AgencyStatus.APPROVED,
                f"{prefix}contract_start__lte": day,
                f"{prefix}contract_end__gte": day,
            }
        )

    def refusal_on(self, day: datetime.date) -> str:
        """Return why no case may be placed with the agency on ``day`` (see ``holds_cases_on``), or an empty string."""
        if self.status != AgencyStatus.APPROVED:
            return _("Agency %(name)s is %(status)s, not approved.") % {
                "name": self.name,
                "status": self.get_status_display(),
            }
        if not self.contract_start <= day <= self.contract_end:
            return _("Agency %(name)s has no valid contract on %(day)s (contract %(start)s to %(end)s).") % {
                "name": self.name,
                "day": day,
                "start": self.contract_start,
                "end": self.contract_end,
            }
        return ""


class AgencyMember(models.Model):
    """A login that works for an agency: it sees only the cases placed with that agency."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="agency_membership"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="members")

    class Meta:
        verbose_name = _("agency user")
        verbose_name_plural = _("agency users")

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency}"


def agency_id_of(user: object) -> int | None:
    """Return the id of the agency ``user`` works for, or None for the lender's own staff (cached on the user)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_agency_id"):
        user._agency_id = AgencyMember.objects.filter(user=user).values_list("agency_id", flat=True).first()
    return user._agency_id


def _placed_with(agency_id: int) -> Q:
    """Cases placed with the agency, while it is approved and under contract today: a suspended, terminated or
    expired agency's users lose sight of its cases at once, before the nightly run recalls them."""
    return Q(agency_id=agency_id) & Agency.holds_cases_on(timezone.localdate(), via="agency")


class CaseQuerySet(models.QuerySet):
    """Named reads over cases."""

    def in_queue_order(self) -> "CaseQuerySet":
        """Order as the queue does: follow-ups due first, then by priority (``Case.queue_rank``)."""
        return self.order_by("-queue_rank", "id")

    def for_agent(self, user: object) -> "CaseQuerySet":
        """The open cases ``user`` works: an agency user's are all the agency's, an agent's those assigned to them."""
        agency_id = agency_id_of(user)
        if agency_id is not None:
            return self.open().filter(_placed_with(agency_id))
        # Placing a case lets go of its assignee and a placed case is never assigned (the services),
        # so the agent's queue is read from the (assignee, rank) index alone.
        return self.open().filter(assignee=user)

    def workable_by(self, user: object) -> "CaseQuerySet":
        """The open cases *Work next case* may hand ``user``: their queue, plus unassigned in-house cases."""
        agency_id = agency_id_of(user)
        if agency_id is not None:
            return self.open().filter(_placed_with(agency_id))
        return self.open().filter(Q(assignee=user) | Q(assignee__isnull=True), agency__isnull=True)

    def _visible_parts(self, user: object) -> list["CaseQuerySet"] | None:
        """The cases ``user`` may see, as the querysets whose union they are; None for every case."""
        if user.has_perm("cases.view_all_cases"):
            return None
        agency_id = agency_id_of(user)
        if agency_id is not None:
            return [self.filter(_placed_with(agency_id))]
        in_house = self.filter(agency__isnull=True)
        return [in_house.filter(assignee=user), in_house.filter(claimed_by=user, claimed_until__gt=timezone.now())]

    def visible_to(self, user: object) -> "CaseQuerySet":
        """The cases ``user`` may see: the one place that decides it, used by every screen.

        Supervisors, legal reviewers and superusers see every case; an agency's users see only
        the cases placed with their agency while it may hold them; a collection agent sees the
        in-house cases assigned to them and the one they are working through *Work next case*
        (until the claim ends).
        """
        parts = self._visible_parts(user)
        if parts is None:
            return self
        visible = parts[0]
        for part in parts[1:]:
            visible |= part
        return visible

    def scope(
        self, queryset: models.QuerySet, user: object, *, via: str = "case", through: str = "pk"
    ) -> models.QuerySet:
        """Narrow ``queryset`` (contacts, promises, letters, ledger rows...) to rows of cases ``user`` may see.

        ``via`` is the path from those rows to what they share with a case, ``through`` the path
        from the case to it: the case itself by default, or e.g. ``customer`` for customers. Viewers who see every case get the queryset as it is, so that a list of them
        need not be counted through a subquery. For an agent, the subquery is the union of their
        assigned cases and their claim, each read from an index alone (``case_agent_scope``),
        rather than one OR that visits every case of theirs in the table.
        """
        parts = self._visible_parts(user)
        if parts is None:
            return queryset
        values = [part.order_by().values(through) for part in parts]
        visible = values[0].union(*values[1:]) if len(values) > 1 else values[0]
        return queryset.filter(**{f"{via}__in": visible})

    def open(self) -> "CaseQuerySet":
        """Cases not yet resolved, settled, written off or closed."""
        return self.filter(stage__in=OPEN_STAGES)

    def with_customer(self) -> "CaseQuerySet":
        """Fetch the line, product, policy and customer in the same query."""
        return self.select_related("credit_line__customer", "credit_line__product__policy", "assignee")


def _no_manual_resolution(instance: "Case", user: object) -> bool:
    # Only the dunning run resolves a case, when the ledger says it is paid in full.
    return False


class Case(ConcurrentTransitionMixin, models.Model):
    """A collection case on one credit line. At most one is open per line.

    The stage moves only through the transition methods below, called by the services in
    ``cases.services`` or by the dunning run's set-based equivalent.
    """

    credit_line = models.ForeignKey(
        "accounts.CreditLine", verbose_name=_("credit line"), on_delete=models.PROTECT, related_name="cases"
    )
    # The line's customer, stored with the case (a line never changes hands): an agent's customers
    # are then read from the case index alone (``case_agent_scope``), not line by line.
    customer = models.ForeignKey(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
        editable=False,
    )
    stage = FSMField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.REMINDER, protected=True)
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    balance_fen = models.BigIntegerField(_("overdue balance (fen)"), default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,  # the queue index (assignee, rank) serves; every index slows the nightly writes
    )
    hold_reason = models.CharField(
        _("hold reason"), max_length=16, choices=HoldReason.choices, blank=True, db_default=""
    )
    hold_note = models.TextField(_("hold note"), blank=True, db_default="")
    hold_until = models.DateField(_("hold until"), null=True, blank=True)
    held_from_stage = models.CharField(
        _("held from stage"), max_length=12, choices=Stage.choices, blank=True, db_default=""
    )
    close_reason = models.TextField(_("closing reason"), blank=True, db_default="")
    opened_on = models.DateField(_("opened on"))
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    broken_promises = models.PositiveSmallIntegerField(_("broken promises"), default=0, db_default=0)
    queue_rank = models.IntegerField(
        _("queue rank"),
        default=0,
        db_default=0,
        editable=False,
        help_text=_("The priority score, plus 1,000 while a follow-up is due; see cases.priority."),
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("being worked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimed_until = models.DateTimeField(_("claim ends"), null=True, blank=True)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("placed with agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # mostly empty: the placed-cases index serves the lookups
    )
    follow_up_on = models.DateField(
        _("follow up on"), null=True, blank=True, help_text=_("The day an agent said to come back to the case.")
    )
    opened_by_run = models.ForeignKey(
        DunningRun, verbose_name=_("opened by run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run = models.ForeignKey(
        DunningRun, verbose_name=_("last run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-days_past_due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_line"], condition=Q(stage__in=OPEN_STAGES), name="case_one_open_per_credit_line"
            ),
            models.CheckConstraint(condition=Q(balance_fen__gte=0), name="case_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["stage", "-days_past_due"], name="case_stage_dpd"),
            # The case list's default order; without it a million-row list sorts on every page.
            models.Index(fields=["-days_past_due", "id"], name="case_dpd_id"),
            # An agent's (or an agency's) queue, read in order: no scoring or sorting per page.
            models.Index(
                fields=["assignee", "-queue_rank", "id"], condition=Q(stage__in=OPEN_STAGES), name="case_queue"
            ),
            # What an agent may see (``scope``): their in-house cases, and the lines behind them, from the index alone.
            models.Index(
                fields=["assignee", "customer", "credit_line", "id"],
                condition=Q(agency__isnull=True),
                name="case_agent_scope",
            ),
            # Only placed cases: the few an agency holds, not a million empty entries.
            models.Index(
                fields=["agency", "-queue_rank", "id"],
                condition=Q(stage__in=OPEN_STAGES, agency__isnull=False),
                name="case_placed_queue",
            ),
        ]
        permissions = [
            ("escalate_case", _("Can escalate a case to the next stage")),
            ("hold_case", _("Can put a case on hold")),
            ("resume_case", _("Can lift a hold")),
            ("settle_case", _("Can settle a case")),
            ("write_off_case", _("Can write off a case")),
            ("close_case", _("Can close a case")),
            ("view_all_cases", _("Can see every case, not only one's own")),
            ("place_case", _("Can place cases with an agency and recall them")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """Return the case number people quote: ``C00000042``."""
        return case_number(self.pk)

    @property
    def balance_display(self) -> str:
        """Return the overdue balance as yuan."""
        return format_yuan(self.balance_fen)

    @property
    def is_open(self) -> bool:
        """Return whether the case is still being worked."""
        return self.stage in OPEN_STAGES

    def _clear_hold(self) -> None:
        self.held_from_stage, self.hold_reason, self.hold_note, self.hold_until = "", "", "", None

    @transition(field=stage, source=LADDER[0], target=LADDER[1], permission="cases.escalate_case")
    def escalate_to_collection(self) -> None:
        """Move a reminder case to agent collection."""

    @transition(field=stage, source=LADDER[1], target=LADDER[2], permission="cases.escalate_case")
    def escalate_to_legal(self) -> None:
        """Move a collection case to legal recovery."""

    @transition(field=stage, source=list(LADDER), target=Stage.ON_HOLD, permission="cases.hold_case")
    def hold(self, *, hold_reason: str, note: str, until: datetime.date) -> None:
        """Pause escalation until ``until``, remembering the stage to come back to."""
        self.held_from_stage = self.stage
        self.hold_reason, self.hold_note, self.hold_until = hold_reason, note, until

    @transition(field=stage, source=Stage.ON_HOLD, target=RETURN_VALUE(*LADDER), permission="cases.resume_case")
    def resume(self) -> str:
        """Lift the hold and return to the stage the case left."""
        back_to = self.held_from_stage
        self._clear_hold()
        return back_to

    @transition(field=stage, source=list(OPEN_STAGES), target=Stage.RESOLVED, permission=_no_manual_resolution)
    def resolve(self) -> None:
        """Close the case because the overdue balance is paid in full."""
        self._clear_hold()

    @transition(field=stage, source=list(OPEN_STAGES), target=Stage.SETTLED, permission="cases.settle_case")
    def settle(self) -> None:
        """Close the case on an agreed settlement."""

    @transition(field=stage, source=list(OPEN_STAGES), target=Stage.WRITTEN_OFF, permission="cases.write_off_case")
    def write_off(self) -> None:
        """Close the case by writing the debt off."""

    @transition(field=stage, source=list(OPEN_STAGES), target=Stage.CLOSED, permission="cases.close_case")
    def close(self) -> None:
        """Close the case for another reason (deceased, fraud, sold, ...)."""


# The transition method that climbs each rung of the ladder.
ESCALATION_METHODS: dict[tuple[str, str], str] = {
    (LADDER[0], LADDER[1]): "escalate_to_collection",
    (LADDER[1], LADDER[2]): "escalate_to_legal",
}


def case_number(pk: int | None) -> str:
    """Format a case id as its number."""
    return f"C{pk:08d}" if pk else "—"


def case_id_from_number(text: str) -> int | None:
    """Return the id in a case number such as ``C00000042`` (or ``c42``), or ``None``."""
    text = text.strip().upper()
    if len(text) > 1 and text[0] == "C" and text[1:].isdigit():
        return int(text[1:])
    return None


class CaseTransition(models.Model):
    """One stage change of a case: append-only, written by whichever path made the change."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="transitions")
    from_stage = models.CharField(_("from"), max_length=12, choices=Stage.choices)
    to_stage = models.CharField(_("to"), max_length=12, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system made the change."),
    )
    reason = models.TextField(_("reason"), blank=True)
    run = models.ForeignKey(
        DunningRun, verbose_name=_("dunning run"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("case transition")
        verbose_name_plural = _("case transitions")
        ordering = ["case", "created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="transition_case_time")]

    def __str__(self) -> str:
        return f"{case_number(self.case_id)}: {self.from_stage} → {self.to_stage}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Refuse to change a transition once written: the record is append-only."""
        if self.pk is not None:
            raise ValidationError(_("A case transition is never changed once written."))
        super().save(*args, **kwargs)


class Contact(models.Model):
    """A call, message or visit about a case, entered by an agent or imported after the fact."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="contacts")
    channel = models.CharField(_("channel"), max_length=8, choices=ContactChannel.choices)
    direction = models.CharField(
        _("direction"), max_length=8, choices=ContactDirection.choices, default=ContactDirection.OUTBOUND
    )
    party = models.CharField(_("party"), max_length=12, choices=ContactParty.choices, default=ContactParty.CUSTOMER)
    outcome = models.CharField(_("outcome"), max_length=12, choices=ContactOutcome.choices)
    phone_number = models.CharField(_("number called"), max_length=20, blank=True)
    notes = models.TextField(_("notes / message"), blank=True)
    identity_disclosed = models.BooleanField(_("identity disclosed"), default=False)
    recording_reference = models.CharField(_("recording reference"), max_length=100, blank=True)
    occurred_at = models.DateTimeField(_("when"))
    customer_local_date = models.DateField(_("customer's local date"))
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=8, choices=ContactSource.choices, default=ContactSource.ENTERED)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who uploaded an imported contact; empty for contacts entered here or imported by the system."),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["case", "customer_local_date"], name="contact_case_day"),
            models.Index(fields=["phone_number", "customer_local_date"], name="contact_number_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class ComplianceIncident(models.Model):
    """A rule an imported contact broke: stored, never dropped, and shown to supervisors."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.PROTECT, related_name="incidents")
    rule = models.CharField(_("rule"), max_length=32)
    message = models.TextField(_("what happened"))
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("compliance incident")
        verbose_name_plural = _("compliance incidents")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.rule} #{self.pk}"


class CaseAssignment(models.Model):
    """Who gave a case to whom, and when: the audit row of every (re)assignment."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="assignments")
    assigned_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case assignment")
        verbose_name_plural = _("case assignments")
        ordering = ["-assigned_at"]

    def __str__(self) -> str:
        return f"{case_number(self.case_id)} → {self.assigned_to_id}"


class MyCase(Case):
    """An agent's queue: their open cases, highest priority first."""

    class Meta:
        proxy = True
        verbose_name = _("my case")
        verbose_name_plural = _("my cases")


class Promise(models.Model):
    """A promise to pay an amount by a date; the dunning run marks it kept or broken."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="promises")
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    due_date = models.DateField(_("promised date"))
    grace_until = models.DateField(_("kept if paid by"))
    status = models.CharField(
        _("status"), max_length=8, choices=PromiseStatus.choices, default=PromiseStatus.PENDING, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"))
    settled_on = models.DateField(_("judged on"), null=True, blank=True)

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="promise_amount_positive")]

    def __str__(self) -> str:
        return f"{format_yuan(self.amount_fen)} by {self.due_date}"


class Placement(models.Model):
    """A case placed with an agency, and when and why it came back: the audit of every placement."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="placements")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="placements")
    placed_at = models.DateTimeField(_("placed"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), on_delete=models.PROTECT, related_name="+"
    )
    recalled_at = models.DateTimeField(_("recalled"), null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recalled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system recalled it (contract ended, agency no longer approved)."),
    )
    recall_reason = models.TextField(_("recall reason"), blank=True)

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(recalled_at__isnull=True), name="placement_one_active_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{case_number(self.case_id)} → {self.agency}"


class Proposal(models.Model):
    """A settlement or write-off an agent proposes and a supervisor (never the proposer) decides."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(_("kind"), max_length=12, choices=ProposalKind.choices)
    amount_fen = models.BigIntegerField(
        _("amount (fen)"), help_text=_("Settlement: the agreed amount to pay. Write-off: the balance written off.")
    )
    balance_fen = models.BigIntegerField(_("overdue balance when proposed (fen)"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.PENDING, db_index=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("settlement or write-off proposal")
        verbose_name_plural = _("settlement and write-off proposals")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=LIVE_PROPOSAL_STATUSES), name="proposal_one_live_per_case"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="proposal_amount_positive"),
        ]
        permissions = [("decide_proposal", _("Can approve or reject settlement and write-off proposals"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_yuan(self.amount_fen)} ({case_number(self.case_id)})"
