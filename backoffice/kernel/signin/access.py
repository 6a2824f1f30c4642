"""Who may unlock a locked-out sign-in (the one place that decides)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from backoffice.kernel.roles import SUPERVISOR

UNLOCK_PERMISSION = "backoffice.unlock_signinfailure"


def may_unlock(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether the user may unlock sign-ins: supervisors only.

    A superuser holds every permission in Django, but is an IT role: unless also a supervisor, not here.
    """
    return user.is_active and user.has_perm(UNLOCK_PERMISSION) and user.groups.filter(name=SUPERVISOR).exists()
