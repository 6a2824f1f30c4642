"""What the night writes for recovery (催回率, cure rates) and the letters funnel, once per date.

Recovery follows stage-entry cohorts: each case's entry into a ladder stage (``StageEntry``, with the overdue
amount assigned at entry), how that stay in the stage ended (``StageExit``), and per day what happened to
each cohort (``RecoveryDay``): cases entered, amounts collected net of reversals, cures by kind. Letters
count per day what was drafted, approved, sent, rejected and cancelled (``LetterDay``), and, once the 30 days
after a sending have passed, what those letters' cases paid (``LetterPaid``).

Every row is keyed and inserted only if absent, day by day: a re-run changes nothing and the past is never
restated (a reversed payment shows, negative, on the day of the reversal).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StageOutcome(models.TextChoices):
    """How a case's stay in a stage ended, as the cure rates split it."""

    PAID = "paid", _("Cured by payment")
    # Resolved because nothing was overdue any more, but the payments since entry did not cover what was
    # assigned: the bills were re-aged or amended. Not a cure by payment.
    REAGED = "reaged", _("Resolved by re-ageing or amendment")
    SETTLED = "settled", _("Settled")
    WRITTEN_OFF = "written_off", _("Written off")
    CLOSED = "closed", _("Closed for another reason")
    ESCALATED = "escalated", _("Escalated to the next stage")


class StageEntry(models.Model):
    """A case entering a ladder stage on a date, with the overdue amount assigned at entry: a cohort's member.

    A case enters the reminder stage when it opens; collection and legal when it climbs to them (a return
    from a hold is not an entry). ``team_id`` and ``agency_id`` are those the case was with the night after
    (0 for none); ``assigned_fen`` is the line's overdue amount at the start of the entry date.
    """

    case_id = models.BigIntegerField(_("case"))
    credit_line_id = models.BigIntegerField(_("credit line"))
    stage = models.CharField(_("stage"), max_length=12)
    entered_on = models.DateField(_("entered on"))
    product_id = models.IntegerField(_("product"))
    policy_id = models.IntegerField(_("policy"))
    team_id = models.IntegerField(_("team"), default=0)
    agency_id = models.IntegerField(_("agency"), default=0)
    assigned_fen = models.BigIntegerField(_("overdue amount assigned (fen)"))

    class Meta:
        verbose_name = _("stage entry")
        verbose_name_plural = _("stage entries")
        constraints = [models.UniqueConstraint(fields=["case_id", "stage", "entered_on"], name="stage_entry_once")]
        indexes = [
            models.Index(fields=["credit_line_id", "entered_on"], name="stage_entry_line"),
            models.Index(fields=["entered_on"], name="stage_entry_day"),
        ]

    def __str__(self) -> str:
        return f"{self.entered_on} #{self.case_id} {self.stage}"


class StageExit(models.Model):
    """How and when a case's stay in a stage ended (escalated, cured by payment, re-aged, settled, ...)."""

    entry = models.OneToOneField(StageEntry, verbose_name=_("stage entry"), on_delete=models.CASCADE)
    left_on = models.DateField(_("left on"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=StageOutcome.choices)

    class Meta:
        verbose_name = _("stage exit")
        verbose_name_plural = _("stage exits")
        indexes = [models.Index(fields=["left_on"], name="stage_exit_day")]

    def __str__(self) -> str:
        return f"{self.left_on} {self.outcome}"


class RecoveryDay(models.Model):
    """What happened on ``day`` to the cases that entered ``stage`` on ``entered_on``, by product, team and agency.

    Sums of these rows up to a date give the cohort as of that date: ``collecting`` and ``held`` are changes
    (+1 when a case's net collection turns positive or it goes on hold, −1 when a reversal or a lifted hold
    takes it back), the outcomes count the stays that ended that day.
    """

    day = models.DateField(_("date"))
    entered_on = models.DateField(_("entered on"))
    stage = models.CharField(_("stage"), max_length=12)
    product_id = models.IntegerField(_("product"))
    policy_id = models.IntegerField(_("policy"))
    team_id = models.IntegerField(_("team"), default=0)
    agency_id = models.IntegerField(_("agency"), default=0)
    entered = models.IntegerField(_("cases entered"), default=0)
    assigned_fen = models.BigIntegerField(_("assigned (fen)"), default=0)
    collected_fen = models.BigIntegerField(_("collected (fen)"), default=0)
    collecting = models.IntegerField(_("change in cases with a net collection"), default=0)
    held = models.IntegerField(_("change in cases on hold"), default=0)
    paid = models.IntegerField(_("cured by payment"), default=0)
    reaged = models.IntegerField(_("resolved by re-ageing"), default=0)
    settled = models.IntegerField(_("settled"), default=0)
    written_off = models.IntegerField(_("written off"), default=0)
    closed = models.IntegerField(_("closed"), default=0)
    escalated = models.IntegerField(_("escalated"), default=0)

    class Meta:
        verbose_name = _("recovery by day")
        verbose_name_plural = _("recovery by day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "entered_on", "stage", "product_id", "policy_id", "team_id", "agency_id"],
                name="recovery_day_once",
            )
        ]
        indexes = [models.Index(fields=["entered_on", "day"], name="recovery_day_cohort")]

    def __str__(self) -> str:
        return f"{self.day} {self.entered_on} {self.stage}"


class LetterStep(models.TextChoices):
    """A step of the letters funnel, or where a letter left it."""

    DRAFTED = "drafted", _("Drafted")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class LetterDay(models.Model):
    """The letters that reached ``step`` on ``day``, by firm, template version and product.

    ``reason`` is the rejection or cancellation reason (the case's number taken out, so that the same
    reason groups); ``cost_fen`` is the firm's cost per letter, counted for the letters sent.
    """

    day = models.DateField(_("date"))
    step = models.CharField(_("step"), max_length=12, choices=LetterStep.choices)
    firm_id = models.IntegerField(_("law firm"), default=0)
    template_id = models.IntegerField(_("template"))
    product_id = models.IntegerField(_("product"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    letters = models.IntegerField(_("letters"))
    cost_fen = models.BigIntegerField(_("legal cost (fen)"), default=0)

    class Meta:
        verbose_name = _("letters by day")
        verbose_name_plural = _("letters by day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "step", "firm_id", "template_id", "product_id", "reason"], name="letter_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.step} {self.letters}"


class LetterPaid(models.Model):
    """What the cases of the letters sent on ``sent_on`` paid on ``day``, within the 30 days after the sending.

    Sums up to a date give, for each sending date, the letters whose case has paid something (net) since
    the sending and what it paid; the figures are final once the 30th day after the sending is past.
    ``paying`` is a change: +1 when a letter's case's net payments since the sending turn positive, −1
    when a reversal takes them back to nothing.
    """

    day = models.DateField(_("date"))
    sent_on = models.DateField(_("sent on"))
    firm_id = models.IntegerField(_("law firm"), default=0)
    template_id = models.IntegerField(_("template"))
    product_id = models.IntegerField(_("product"))
    recovered_fen = models.BigIntegerField(_("recovered (fen)"))
    paying = models.IntegerField(_("change in letters followed by a payment"))

    class Meta:
        verbose_name = _("letters followed by a payment")
        verbose_name_plural = _("letters followed by a payment")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "sent_on", "firm_id", "template_id", "product_id"], name="letter_paid_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.sent_on} {self.paying}"
