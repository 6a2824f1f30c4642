"""Outside collection agencies, their users, and every placement of a case with one."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.casework.numbers import case_number
from cases.choices import AgencyStatus


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


class Placement(models.Model):
    """A case placed with an agency, and when and why it came back: the audit of every placement."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="placements")
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
