"""Message templates (versioned per channel and language), the policy's cadence, and every message planned."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import Language
from cases.choices import MessageChannel, MessageKind, MessageStatus, Stage


class MessageTemplate(models.Model):
    """One version of a message's wording for a channel and a language.

    The body is plain text with ``{placeholders}`` (``MESSAGE_PLACEHOLDERS``). An SMS template
    mirrors the text the SMS provider approved under ``provider_template_code``: the provider is
    sent only that code and the values, so what the prohibited-phrase check reads is what leaves.
    A version in use is never edited; a new version is activated by someone other than its author.
    """

    code = models.SlugField(_("code"), max_length=64)
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    subject = models.CharField(_("subject or title"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    provider_template_code = models.CharField(
        _("provider's template code"),
        max_length=64,
        blank=True,
        help_text=_("SMS: the code under which the SMS provider approved this text."),
    )
    is_active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("activated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code", "channel", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "channel", "language", "version"], name="message_template_version_unique"
            ),
            models.UniqueConstraint(
                fields=["code", "channel", "language"],
                condition=Q(is_active=True),
                name="message_template_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.get_channel_display()} {self.language} v{self.version}"

    def clean(self) -> None:
        """Refuse an SMS template without the provider's code."""
        if self.channel == MessageChannel.SMS and not self.provider_template_code.strip():
            raise ValidationError(
                {"provider_template_code": _("An SMS template needs the code its provider approved it under.")}
            )


# The furthest a rule's day may lie: a year and a month, before the due date or past it.
MAX_RULE_DAY = 400


class ReminderRule(models.Model):
    """One line of a policy's cadence: which template goes by which channel, on which days.

    Before the due date, ``days`` counts days before it (``3,1,0``: three days before, the day
    before and on the day). Overdue, ``days`` are days past due within ``stage`` and ``every_days``
    repeats from the stage's first day (1: daily, 7: weekly). On stage entry, one message the day
    the case enters ``stage``.
    """

    policy = models.ForeignKey(
        "cases.DunningPolicy", verbose_name=_("policy"), on_delete=models.CASCADE, related_name="reminder_rules"
    )
    kind = models.CharField(_("when"), max_length=12, choices=MessageKind.choices)
    stage = models.CharField(
        _("stage"),
        max_length=12,
        choices=[(s.value, s.label) for s in (Stage.REMINDER, Stage.COLLECTION, Stage.LEGAL)],
        blank=True,
        help_text=_("Overdue and stage-entry messages: the stage they belong to."),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    days = models.CharField(
        _("days"),
        max_length=100,
        blank=True,
        help_text=_("Comma-separated. Before the due date: days before it. Overdue: days past due."),
    )
    every_days = models.PositiveSmallIntegerField(
        _("repeat every (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_RULE_DAY)],
        help_text=_("Overdue: repeat from the stage's first day (1 daily, 7 weekly); empty for the listed days only."),
    )
    template_code = models.SlugField(_("template code"), max_length=64)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["policy", "kind", "stage", "channel"]
        constraints = [
            models.CheckConstraint(condition=Q(every_days__isnull=True) | Q(every_days__gte=1), name="reminder_every"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.stage} {self.get_channel_display()}"

    def day_list(self) -> list[int]:
        """Return ``days`` as numbers."""
        return sorted({int(part) for part in self.days.replace("，", ",").split(",") if part.strip()})

    def clean(self) -> None:
        """Refuse days that are not whole numbers, and rules without the days they need."""
        try:
            listed = self.day_list()
        except ValueError:
            raise ValidationError({"days": _("Days %(value)r are not whole numbers.") % {"value": self.days}}) from None
        if any(not 0 <= day <= MAX_RULE_DAY for day in listed):
            raise ValidationError(
                {
                    "days": _("Days %(value)r must each be from 0 to %(most)s.")
                    % {"value": self.days, "most": MAX_RULE_DAY}
                }
            )
        if self.kind != MessageKind.PRE_DUE and not self.stage:
            raise ValidationError({"stage": _("An overdue or stage-entry message needs its stage.")})
        if self.kind != MessageKind.STAGE_ENTRY and not listed and not self.every_days:
            raise ValidationError({"days": _("Give the days, or how often to repeat.")})


class MessageQuerySet(models.QuerySet):
    """Named reads over messages."""

    def unsent(self) -> "MessageQuerySet":
        """Return messages that may still leave."""
        return self.filter(status=MessageStatus.PLANNED)


class Message(models.Model):
    """One message the system sends a customer, from the plan to the provider's receipt.

    It belongs to a customer and a credit line, and to a case when there is one (a reminder
    before the due date has none). The night plans it with a due time inside the customer's
    contact window; the sender checks the rules again at that time, so a rule that stops it says
    which (``stop_rule``), and nothing is sent for a case paid or closed since.
    """

    customer = models.ForeignKey(
        "accounts.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    credit_line = models.ForeignKey(
        "accounts.CreditLine",
        verbose_name=_("credit line"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
    )
    bill = models.ForeignKey(
        "accounts.Bill",
        verbose_name=_("bill"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text=_("A reminder before the due date: the bill it is about."),
    )
    kind = models.CharField(_("why"), max_length=12, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    template_code = models.SlugField(_("template"), max_length=64)
    stage = models.CharField(_("stage"), max_length=12, blank=True)
    planned_for = models.DateField(_("planned for"))
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices)
    stop_rule = models.CharField(_("rule that stopped it"), max_length=32, blank=True)
    stop_reason = models.TextField(_("why it was stopped or cancelled"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    template_version = models.PositiveIntegerField(_("template version"), null=True, blank=True)
    provider = models.CharField(_("provider"), max_length=16, blank=True)
    provider_message_id = models.CharField(_("provider's id"), max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("planned at"))

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message to a customer")
        verbose_name_plural = _("messages to customers")
        ordering = ["-due_at"]
        constraints = [
            # The night re-run for the same date plans nothing twice.
            models.UniqueConstraint(
                fields=["credit_line", "planned_for", "kind", "channel"], name="message_one_per_line_day"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="message_provider_id_unique",
            ),
        ]
        indexes = [
            # The sender's poll: what is planned and due, oldest first.
            models.Index(fields=["due_at"], condition=Q(status="planned"), name="message_due"),
            models.Index(fields=["case", "due_at"], name="message_case"),
            models.Index(fields=["customer", "due_at"], name="message_customer"),
            # The message list's day and its tally by status and rule, read from the index alone.
            models.Index(fields=["planned_for", "status", "stop_rule"], name="message_planned_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.planned_for} {self.get_status_display()}"

    @property
    def reference(self) -> str:
        """Return our id for the message as providers carry it."""
        return f"MSG-{self.pk}"
