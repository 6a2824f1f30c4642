"""The rules contacts follow, the contacts themselves, the incidents they open, and the phrases no message may hold."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.choices import Language
from cases.choices import ContactChannel, ContactDirection, ContactOutcome, ContactParty, ContactSource


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
    daily_message_cap = models.PositiveSmallIntegerField(
        _("messages and contacts per customer per day"),
        default=3,
        db_default=3,
        help_text=_("What the system sends and what agents and agencies start, together, per customer's local day."),
    )
    weekly_message_cap = models.PositiveSmallIntegerField(
        _("messages and contacts per customer per 7 days"), default=10, db_default=10
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


class Contact(models.Model):
    """A call, message or visit about a case, entered by an agent or imported after the fact."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="contacts")
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
        permissions = [("import_contacts_for_others", _("Can import contacts made by other users"))]
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
        # The night counts each day's incidents by their opening time (the compliance report).
        indexes = [models.Index(fields=["opened_at"], name="incident_opened_at")]

    def __str__(self) -> str:
        return f"{self.rule} #{self.pk}"


class ContactRefusal(models.Model):
    """A contact an agent entered that a rule refused: the rule and who tried, never the number or the notes.

    Nothing of the contact is stored (it did not happen as entered); the row is the compliance report's
    count of contacts refused by rule, one row per rule the contact broke. A letter's e-mail the rules
    refused is one (channel e-mail, no agent when the poll refused it), and so is a placement with an
    agency that is not approved (no channel: the agency would have made the contacts).
    """

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=ContactChannel.choices)
    rule = models.CharField(_("rule"), max_length=32)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refused_at = models.DateTimeField(_("refused at"), auto_now_add=True)

    class Meta:
        verbose_name = _("refused contact")
        verbose_name_plural = _("refused contacts")
        ordering = ["-refused_at"]
        indexes = [models.Index(fields=["refused_at"], name="contact_refusal_at")]

    def __str__(self) -> str:
        return f"{self.rule} #{self.pk}"


class ProhibitedPhraseListQuerySet(models.QuerySet):
    """Named reads over phrase lists."""

    def in_force(self, language: str) -> list[str]:
        """Return the phrases in force for ``language`` (the newest list's), or none."""
        latest = self.filter(language=language).order_by("-version").first()
        return latest.phrase_set() if latest else []


class ProhibitedPhraseList(models.Model):
    """A version of the phrases no message or letter may contain, per language; the newest version is in force.

    One compliance rule (``PROHIBITED_CONTENT``) that contacts and letters both apply.
    """

    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    version = models.PositiveIntegerField(_("version"))
    phrases = models.TextField(_("phrases, one per line"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = ProhibitedPhraseListQuerySet.as_manager()

    class Meta:
        # The table the letters app created before the list moved here, kept as it was.
        db_table = "letters_prohibitedphraselist"
        verbose_name = _("prohibited phrase list")
        verbose_name_plural = _("prohibited phrase lists")
        ordering = ["language", "-version"]
        constraints = [models.UniqueConstraint(fields=["language", "version"], name="phrase_list_version_unique")]

    def __str__(self) -> str:
        return f"{self.get_language_display()} v{self.version}"

    def phrase_set(self) -> list[str]:
        """Return the phrases, blanks dropped."""
        return [line.strip() for line in self.phrases.splitlines() if line.strip()]
