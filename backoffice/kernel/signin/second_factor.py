"""The second factor's reads: whose sign-in asks for a code, whose role requires one, and the enrolment QR code."""

import base64
import io

import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.kernel.roles import AGENCY, AGENT, LEGAL, SUPERVISOR

# The names OTP_REQUIRED_FOR_ROLES takes, and the role (group) each stands for; "superuser" is the flag.
ROLE_NAMES = {"agent": AGENT, "agency": AGENCY, "legal": LEGAL, "supervisor": SUPERVISOR}


def confirmed_device(user: AbstractBaseUser) -> TOTPDevice | None:
    """Return the user's confirmed TOTP device, or None: signing in asks for its code when there is one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def second_factor_required(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether the user's role requires a second factor (``OTP_REQUIRED_FOR_ROLES``)."""
    required = set(settings.OTP_REQUIRED_FOR_ROLES)
    if not required or not user.is_authenticated:
        return False
    if user.is_superuser and "superuser" in required:
        return True
    groups = [ROLE_NAMES[name] for name in required if name in ROLE_NAMES]
    return bool(groups) and user.groups.filter(name__in=groups).exists()


def enrolment_qr_png(device: TOTPDevice) -> str:
    """Return the device's ``otpauth://`` address as a QR code, a PNG in a ``data:`` URI (no file, no request)."""
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(buffer, kind="png", scale=5, border=2)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def enrolment_secret(device: TOTPDevice) -> str:
    """Return the device's secret in base32, grouped by four, for typing into an app that cannot scan."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
