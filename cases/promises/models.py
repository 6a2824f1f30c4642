"""Promises to pay."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.money import format_yuan
from cases.choices import PromiseStatus


class Promise(models.Model):
    """A promise to pay an amount by a date; the dunning run marks it kept or broken."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="promises")
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
    unkept_on = models.DateField(
        _("money reversed on"),
        null=True,
        blank=True,
        help_text=_(
            "The day a payment that kept the promise was reversed: it stays kept in history and counts as"
            " broken on the line's open case."
        ),
    )

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="promise_amount_positive")]
        # The dashboard's "broken yesterday": partial indexes, so that a day's broken promises and reversed
        # payments are found without reading every promise ever judged.
        indexes = [
            models.Index(fields=["settled_on"], condition=Q(status=PromiseStatus.BROKEN), name="promise_broken_on"),
            models.Index(fields=["unkept_on"], condition=Q(unkept_on__isnull=False), name="promise_unkept_on"),
        ]

    def __str__(self) -> str:
        return f"{format_yuan(self.amount_fen)} by {self.due_date}"
