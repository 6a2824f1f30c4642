"""Who works which case: stage teams, the record of every assignment, and an agent's own queue."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from cases.casework.models import Case
from cases.casework.numbers import case_number
from cases.choices import LADDER, Stage


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


class CaseAssignment(models.Model):
    """Who gave a case to whom, and when: the audit row of every (re)assignment."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="assignments")
    assigned_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("assignment", "from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("assignment", "to"),
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
