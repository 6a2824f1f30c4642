"""Why a user was deactivated, and by whom: users leave by deactivation, never deletion, and the reason is kept."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Deactivation(models.Model):
    """One deactivation of a user: who did it, when, and why (left the company, moved to another role...)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="deactivations"
    )
    reason = models.TextField(_("reason"), max_length=500)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deactivated by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deactivated_at = models.DateTimeField(_("deactivated at"), default=timezone.now)

    class Meta:
        app_label = "backoffice"
        verbose_name = _("deactivation")
        verbose_name_plural = _("deactivations")
        ordering = ["-deactivated_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.deactivated_at:%Y-%m-%d}"


def user_deactivate(*, user: AbstractBaseUser, actor: AbstractBaseUser | None, reason: str) -> Deactivation:
    """Deactivate the user for ``reason`` and keep it, with who did it; the user's history stays whole."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"deactivation_reason": _("Say why the user is deactivated.")})
    with transaction.atomic():
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        return Deactivation.objects.create(user=user, reason=reason[:500], deactivated_by=actor)
