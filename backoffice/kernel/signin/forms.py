"""The admin's sign-in form, which asks for the second factor's code when the user has one, and the enrolment form."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.kernel.serving import security_event
from backoffice.kernel.signin.second_factor import confirmed_device


def code_field(*, required: bool) -> forms.CharField:
    """Return a field for a six-digit code from an authenticator app."""
    return forms.CharField(
        label=_("Code from your authenticator app"),
        required=required,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )


class SignInForm(AdminAuthenticationForm):
    """Username and password, then the code of the user's TOTP device when they set one up.

    A wrong password counts towards the lockout (django-axes, in ``authenticate``); a wrong code counts
    towards the device's own back-off, which doubles the wait after each failure.
    """

    otp_token = code_field(required=False)
    otp_token.help_text = _("Only if you set up a second factor.")

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "token_required": _("Enter the code from your authenticator app: this login has a second factor."),
        "invalid_token": _("That code is wrong or expired. Enter the code your authenticator app shows now."),
    }

    def clean(self) -> dict:
        """Check the password (and the lockout), then the second factor if the user has one."""
        cleaned = super().clean()
        user = self.get_user()
        if user is not None:
            user.otp_device = self._verified_device(user)
        return cleaned

    def _verified_device(self, user: AbstractBaseUser) -> TOTPDevice | None:
        device = confirmed_device(user)
        if device is None:
            return None
        token = (self.cleaned_data.get("otp_token") or "").strip()
        if not token:
            raise ValidationError(self.error_messages["token_required"], code="token_required")
        # The device's back-off counter is written even when the code is wrong: decide, then raise.
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            verified = device.verify_is_allowed()[0] and device.verify_token(token)
        if not verified:
            security_event("second_factor_failed", user_id=user.pk)
            raise ValidationError(self.error_messages["invalid_token"], code="invalid_token")
        return device


class EnrolmentForm(forms.Form):
    """The first code of a new device, which proves the app holds the secret."""

    otp_token = code_field(required=True)
