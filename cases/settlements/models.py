"""Settlement and write-off proposals, decided by a second person."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.money import format_yuan
from cases.casework.numbers import case_number
from cases.choices import LIVE_PROPOSAL_STATUSES, ProposalKind, ProposalStatus


class Proposal(models.Model):
    """A settlement or write-off an agent proposes and a supervisor (never the proposer) decides."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="proposals")
    kind = models.CharField(_("kind"), max_length=12, choices=ProposalKind.choices)
    amount_fen = models.BigIntegerField(
        _("amount (fen)"), help_text=_("Settlement: the agreed amount to pay. Write-off: the balance written off.")
    )
    balance_fen = models.BigIntegerField(_("overdue balance when proposed (fen)"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.PENDING, db_index=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("settlement or write-off proposal")
        verbose_name_plural = _("settlement and write-off proposals")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=LIVE_PROPOSAL_STATUSES), name="proposal_one_live_per_case"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="proposal_amount_positive"),
        ]
        permissions = [
            ("decide_proposal", _("Can approve or reject settlement and write-off proposals")),
            (
                "decide_large_proposal",
                _("Can give the second approval of settlements and write-offs above the set amount"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_yuan(self.amount_fen)} ({case_number(self.case_id)})"
