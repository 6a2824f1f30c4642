"""Writes about signing in: unlocking locked-out sign-ins, and enrolling and confirming a second factor."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.kernel.serving import security_event
from backoffice.kernel.signin.access import may_unlock
from backoffice.kernel.signin.lockout import user_id_for
from backoffice.kernel.signin.models import SignInFailure


def sign_in_failures_unlock(*, failures: QuerySet[SignInFailure], actor: AbstractBaseUser) -> int:
    """Forget the failures of these username and address pairs, so they may sign in again; return how many.

    Each unlock is logged as a security event naming the supervisor and the user by id.
    """
    if not may_unlock(actor):
        raise PermissionDenied
    with transaction.atomic():
        rows = list(failures.select_for_update().values_list("pk", "username"))
        SignInFailure.objects.filter(pk__in=[pk for pk, _username in rows]).delete()
    for _pk, username in rows:
        security_event("login_unlocked", actor_id=actor.pk, user_id=user_id_for(username))
    return len(rows)


def second_factor_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """Return the user's TOTP device waiting for its first code, creating it (with a new secret) if there is none."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


def second_factor_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a waiting device with a code from the authenticator app; return whether the code was right.

    A confirmed device replaces any the user had before: one second factor a person.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        verified, _details = device.verify_is_allowed()
        if not verified or not device.verify_token(token):
            return False
        TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    security_event("second_factor_enrolled", user_id=device.user_id)
    return True
