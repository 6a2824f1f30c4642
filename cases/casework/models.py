"""The collection case, its stage machine, and the record of every stage change."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from backoffice.kernel.money import format_yuan
from cases.agencies.models import Agency, agency_id_of
from cases.casework.numbers import case_number
from cases.choices import LADDER, OPEN_STAGES, HoldReason, Stage


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
        "cases.DunningRun",
        verbose_name=_("opened by run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_run = models.ForeignKey(
        "cases.DunningRun",
        verbose_name=_("last run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Every writer of a column the API shows (stage, figures, hold, assignee, agency) sets it in the
    # same statement, set-wise writers included; the raw inserts of the nightly run get the default.
    changed_at = models.DateTimeField(
        _("changed at"),
        default=timezone.now,
        db_default=Now(),
        editable=False,
        help_text=_("When the stage, figures, hold, assignee or agency last changed (the API's changed_since)."),
    )
    froze_line = models.BooleanField(
        _("froze its credit line"),
        default=False,
        db_default=False,
        editable=False,
        help_text=_("Entering collection froze the line; the freeze is lifted when the case is paid in full."),
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
            # The lender's "changed since" reads: a range of recent changes, paged by id.
            models.Index(fields=["changed_at", "id"], name="case_changed_at"),
            # The dashboard's "never contacted": a partial index holds only the open cases nobody reached yet.
            models.Index(
                fields=["opened_at"],
                condition=Q(last_contact_at__isnull=True, stage__in=LADDER),
                name="case_never_contacted",
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


class CaseTransition(models.Model):
    """One stage change of a case: append-only, written by whichever path made the change."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="transitions")
    from_stage = models.CharField(pgettext_lazy("stage change", "from"), max_length=12, choices=Stage.choices)
    to_stage = models.CharField(pgettext_lazy("stage change", "to"), max_length=12, choices=Stage.choices)
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
        "cases.DunningRun",
        verbose_name=_("dunning run"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
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
