"""Sign-in failures as supervisors see them: django-axes' record of a username and address's failed logins."""

import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SignInFailureQuerySet(models.QuerySet):
    """Reads of sign-in failures."""

    def locked(self) -> "SignInFailureQuerySet":
        """The username and address pairs refused now: at the failure limit within the cool-off."""
        return self.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        )


class SignInFailure(AccessAttempt):
    """A username and client address with failed logins in a row (django-axes' ``AccessAttempt``).

    At ``AXES_FAILURE_LIMIT`` failures the pair is locked out until ``AXES_COOLOFF_TIME`` after the last
    one, or until a supervisor unlocks it; a successful login deletes the record.
    """

    objects = SignInFailureQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("sign-in failure")
        verbose_name_plural = _("sign-in failures")
        default_permissions = ("view",)
        permissions = [("unlock_signinfailure", _("Can unlock a locked-out sign-in"))]

    def __str__(self) -> str:
        """Name the pair by its username only: the address is shown in its own column."""
        return self.username or "—"

    def locked_until(self) -> datetime.datetime | None:
        """Return when the lockout ends by itself, or None if the pair is not locked out."""
        if self.failures_since_start < settings.AXES_FAILURE_LIMIT:
            return None
        until = self.attempt_time + settings.AXES_COOLOFF_TIME
        return until if until > timezone.now() else None
