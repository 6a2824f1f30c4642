"""Law firms, letter templates and the letters themselves."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from letters.choices import IN_FLIGHT_STATUSES, DispatchChannel, LetterKind, LetterLanguage, LetterStatus


class LawFirm(models.Model):
    """A law firm that issues lawyer letters on the creditor's engagement."""

    name = models.CharField(_("registered name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    licence_number = models.CharField(_("licence number"), max_length=64, unique=True)
    phone = models.CharField(_("phone"), max_length=32)
    email = models.EmailField(_("e-mail"))
    engagement_reference = models.CharField(_("engagement reference"), max_length=64)
    seal = models.FileField(
        _("seal image"), upload_to="seals/", blank=True, help_text=_("PNG or SVG; a drawn seal is used when empty.")
    )
    cost_per_letter_fen = models.BigIntegerField(
        _("cost per letter (fen)"),
        default=0,
        db_default=0,
        help_text=_(
            "What the firm charges for each letter sent, in fen (100 fen = 1 yuan); the letters report "
            "sets it against what the letters' cases paid."
        ),
    )

    class Meta:
        verbose_name = _("law firm")
        verbose_name_plural = _("law firms")
        constraints = [
            models.CheckConstraint(condition=Q(cost_per_letter_fen__gte=0), name="law_firm_cost_not_negative")
        ]

    def __str__(self) -> str:
        return self.name


class Lawyer(models.Model):
    """A licensed lawyer of a firm, and the account they approve letters with."""

    firm = models.ForeignKey(LawFirm, verbose_name=_("law firm"), on_delete=models.PROTECT, related_name="lawyers")
    name = models.CharField(_("name"), max_length=100)
    licence_number = models.CharField(_("licence number"), max_length=64, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lawyer",
    )

    class Meta:
        verbose_name = _("lawyer")
        verbose_name_plural = _("lawyers")

    def __str__(self) -> str:
        return f"{self.name} ({self.firm})"


class LetterTemplate(models.Model):
    """One version of a letter template in one language. A version any letter used is never edited: saving makes
    a new one."""

    code = models.SlugField(_("code"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=LetterKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=LetterLanguage.choices)
    firm = models.ForeignKey(
        LawFirm,
        verbose_name=_("law firm"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="templates",
        help_text=_("Required for lawyer letters: the firm whose letterhead and lawyer sign it."),
    )
    body_html = models.TextField(_("body (Django template HTML)"))
    print_css = models.TextField(_("print CSS"), blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("letter template")
        verbose_name_plural = _("letter templates")
        ordering = ["code", "-version"]
        # A code names one letter in every language it is written in (lawyer-letter in Chinese and in
        # English): each language has its own versions, and one of them in use at a time.
        constraints = [
            models.UniqueConstraint(
                fields=["code", "language", "version"], name="template_version_unique_per_language"
            ),
            models.UniqueConstraint(
                fields=["code", "language"],
                condition=Q(is_active=True),
                name="template_one_active_version_per_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class LetterCounter(models.Model):
    """The last letter number issued in a year; locked while a number is taken, so numbers have no gaps."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("letter counter")
        verbose_name_plural = _("letter counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Letter(models.Model):
    """A letter for a case: its frozen data, its PDF and hash, and its way through approval and dispatch."""

    number = models.CharField(_("letter number"), max_length=20, unique=True)
    verification_code = models.CharField(_("verification code"), max_length=8)
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="letters")
    template = models.ForeignKey(
        LetterTemplate, verbose_name=_("template version"), on_delete=models.PROTECT, related_name="letters"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=LetterKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=LetterLanguage.choices)
    firm = models.ForeignKey(
        LawFirm, verbose_name=_("law firm"), null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    lawyer = models.ForeignKey(
        Lawyer, verbose_name=_("signing lawyer"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.JSONField(_("data as rendered"))
    pdf = models.FileField(_("PDF"), upload_to="letters/%Y/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=LetterStatus.choices, default=LetterStatus.DRAFT, db_index=True
    )
    # The rendering queue: when a rendering task was last queued (the sweep queues it again only after a
    # lease), how many tries began (counted before each, so a worker killed mid-render counts too), and the
    # last failure's text, kept for the person who looks at a letter whose rendering failed.
    render_queued_at = models.DateTimeField(_("rendering queued at"), null=True, blank=True)
    render_attempts = models.PositiveSmallIntegerField(_("rendering tries"), default=0, db_default=0)
    render_error = models.TextField(_("last rendering error"), blank=True, db_default="")
    render_retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rendering retried by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    render_retried_at = models.DateTimeField(_("rendering retried at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the dunning run requested it."),
    )
    requested_at = models.DateTimeField(_("requested at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_sha256 = models.CharField(_("approved PDF SHA-256"), max_length=64, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rejected by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True)
    dispatch_channel = models.CharField(_("channel"), max_length=8, choices=DispatchChannel.choices, blank=True)
    # An e-mail address or a postal address (the ledger keeps up to 500 characters of one).
    dispatch_address = models.CharField(_("sent to"), max_length=500, blank=True)
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    dispatch_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatch requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dispatch_requested_at = models.DateTimeField(_("dispatch requested at"), null=True, blank=True)
    # The e-mail queue: a letter is due for a try when this time has come (polled, never a task ETA).
    # A runner that claims the try moves it forward by a lease, so no other runner sends it meanwhile.
    next_attempt_at = models.DateTimeField(_("next try at"), null=True, blank=True)
    dispatch_attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    dispatch_last_error = models.TextField(_("last dispatch error"), blank=True)
    provider_message_id = models.CharField(
        _("message id"), max_length=200, blank=True, help_text=_("The e-mail's Message-ID the mail server accepted.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    arrived_at = models.DateTimeField(
        _("arrived at"),
        null=True,
        blank=True,
        help_text=_("E-mail: when the mail server accepted it. Registered post: the delivery the tracking shows."),
    )
    arrival_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("arrival recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    limitation_interrupted_on = models.DateField(
        _("limitation period interrupted on"),
        null=True,
        blank=True,
        help_text=_(
            "Civil Code arts. 137 and 195: a demand interrupts the three-year limitation period when it arrives."
        ),
    )
    redraft_of = models.ForeignKey(
        "self", verbose_name=_("redraft of"), null=True, blank=True, on_delete=models.PROTECT, related_name="redrafts"
    )
    # The retention policy removed its PDF and put a marker in place of the addressee and the address it went
    # to; its number, dates, hashes, approval chain and amounts stay.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=IN_FLIGHT_STATUSES), name="letter_one_in_flight_per_case"
            )
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(next_attempt_at__isnull=False), name="letter_send_due")
        ]
        permissions = [
            ("approve_letter", _("Can approve or reject letters")),
            ("dispatch_letter", _("Can send approved letters")),
            ("request_letter", _("Can request a letter for a case")),
            ("retry_letter_rendering", _("Can retry rendering a letter whose rendering failed")),
        ]

    def __str__(self) -> str:
        return self.number


class LetterAwaitingApproval(Letter):
    """The legal reviewers' queue: letters awaiting approval."""

    class Meta:
        proxy = True
        verbose_name = _("letter awaiting approval")
        verbose_name_plural = _("letters awaiting approval")
