"""What the night writes for the compliance report: each day's incidents, refused contacts, stopped messages and
reveals of personal data, counted by rule, agent, team, agency and product.

Keyed by all of these and inserted only if absent, as every report aggregate is: a re-run changes nothing and
the past is never restated.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplianceKind(models.TextChoices):
    """What was counted."""

    INCIDENT = "incident", _("Incidents")
    REFUSED = "refused", _("Contacts refused")
    STOPPED = "stopped", _("Messages stopped")
    REVEAL = "reveal", _("Personal data revealed")


class ComplianceDay(models.Model):
    """One day's compliance events of one kind, by rule, person, team, agency and product.

    ``rule`` is the rule's code (for a reveal: what was revealed, ``mobile`` or ``national_id``). ``user_id``
    is the agent who made or tried the contact, or who revealed the data; ``team_id``, ``agency_id``,
    ``product_id`` and ``user_id`` are 0 for none (a message the system stopped has no agent).
    """

    as_of = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=ComplianceKind.choices)
    rule = models.CharField(_("rule"), max_length=32)
    user_id = models.IntegerField(_("agent or user"), default=0)
    team_id = models.IntegerField(_("team"), default=0)
    agency_id = models.IntegerField(_("agency"), default=0)
    product_id = models.IntegerField(_("product"), default=0)
    events = models.IntegerField(_("how many"))

    class Meta:
        verbose_name = _("compliance by day")
        verbose_name_plural = _("compliance by day")
        constraints = [
            models.UniqueConstraint(
                fields=["as_of", "kind", "rule", "user_id", "team_id", "agency_id", "product_id"],
                name="compliance_day_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.as_of} {self.kind} {self.rule} {self.events}"
