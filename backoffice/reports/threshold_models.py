"""The dashboard's alert thresholds: a supervisor's setting per figure, every change kept."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ThresholdFigure(models.TextChoices):
    """The dashboard figures a threshold can watch, by their card's key, with the unit the limit is in."""

    ENTRY_RATE = "entry-rate", _("Entry rate yesterday (DPD1), in percent")
    PROMISES_BROKEN = "promises-broken", _("Promises broken yesterday, a count")
    NEVER_CONTACTED = "never-contacted", _("Open cases never contacted after 24 hours, a count")
    LETTERS_WAITING = "letters-pending", _("Hours the oldest letter has waited for approval")
    INCIDENTS = "incidents", _("Compliance incidents since yesterday, a count")


class DashboardThreshold(models.Model):
    """A figure on the morning dashboard past ``limit`` (strictly above it) is marked for the supervisors.

    Edited by supervisors in the admin, as the rule packs are; the history keeps who changed what and when.
    """

    figure = models.CharField(_("figure"), max_length=20, choices=ThresholdFigure.choices, unique=True)
    limit = models.DecimalField(
        _("alert above"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("The figure is marked when it is above this value, in the figure's own unit."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dashboard alert threshold")
        verbose_name_plural = _("dashboard alert thresholds")
        ordering = ["figure"]

    def __str__(self) -> str:
        return f"{self.get_figure_display()} > {self.limit}"
