"""A change waiting for a second person: what it changes, the values proposed and the diff, who made and who decided it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeStatus(models.TextChoices):
    """Where a proposed change stands; only a pending one can be decided or withdrawn."""

    PENDING = "pending", _("Waiting for a second person")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ChangeProposalQuerySet(models.QuerySet):
    """Named reads over proposed changes."""

    def pending(self) -> "ChangeProposalQuerySet":
        """Those still waiting for a decision."""
        return self.filter(status=ChangeStatus.PENDING)

    def for_target(self, kind: str, target_id: int | None) -> "ChangeProposalQuerySet":
        """Those of one kind about one object."""
        return self.filter(kind=kind, target_id=target_id)


class ChangeProposal(models.Model):
    """One sensitive change, kept whatever became of it: the maker, the checker, the values before and after.

    ``before`` holds the target's values as they stood when the change was proposed, ``proposed`` the
    values asked for, ``diff`` the fields that differ (before → after). ``fingerprint`` is a digest of
    everything the change depends on, taken when it was proposed: approval re-takes it and refuses a
    change whose target moved meanwhile. The kind (a code its app registers) says which object
    ``target_id`` names and which service applies the change.
    """

    kind = models.CharField(_("kind of change"), max_length=48, db_index=True)
    target_id = models.PositiveBigIntegerField(_("target id"), null=True, blank=True)
    target_label = models.CharField(_("target"), max_length=200)
    proposed = models.JSONField(_("proposed values"), default=dict)
    before = models.JSONField(_("values before"), default=dict)
    diff = models.JSONField(_("difference"), default=dict)
    fingerprint = models.CharField(_("fingerprint of the target"), max_length=64)
    note = models.TextField(_("why (maker)"), blank=True)
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="changes_made",
    )
    made_at = models.DateTimeField(_("proposed at"))
    status = models.CharField(
        _("status"), max_length=12, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes_checked",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason for the decision"), blank=True)

    objects = ChangeProposalQuerySet.as_manager()

    class Meta:
        app_label = "backoffice"
        verbose_name = _("change waiting for a second person")
        verbose_name_plural = _("changes waiting for a second person")
        ordering = ["-made_at", "-pk"]
        indexes = [models.Index(fields=["kind", "target_id", "status"], name="change_kind_target_status")]
        constraints = [
            # The maker never decides their own change, whatever path wrote the row.
            models.CheckConstraint(condition=~models.Q(checker=models.F("maker")), name="change_checker_is_not_maker"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.target_label}"
