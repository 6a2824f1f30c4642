"""The second factor's enrolment page: a QR code and the secret for an authenticator app, then its first code."""

import django_otp
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from backoffice.kernel.signin.forms import EnrolmentForm
from backoffice.kernel.signin.second_factor import (
    confirmed_device,
    enrolment_qr_png,
    enrolment_secret,
    second_factor_required,
)
from backoffice.kernel.signin.services import second_factor_confirm, second_factor_start


@never_cache
def second_factor_view(request: HttpRequest) -> HttpResponse:
    """Show a new secret as a QR code and as text; a right first code makes it the user's second factor."""
    device = second_factor_start(user=request.user)
    form = EnrolmentForm(request.POST or None)
    if form.is_valid():
        if second_factor_confirm(device=device, token=form.cleaned_data["otp_token"]):
            django_otp.login(request, device)
            messages.success(request, _("Your second factor is set up: signing in asks for its code from now on."))
            return redirect("admin:index")
        form.add_error(
            "otp_token", _("That code is wrong or expired. Enter the code your authenticator app shows now.")
        )
    context = {
        **admin.site.each_context(request),
        "title": _("Second factor"),
        "form": form,
        "qr_png": enrolment_qr_png(device),
        "secret": enrolment_secret(device),
        "has_device": confirmed_device(request.user) is not None,
        "required": second_factor_required(request.user),
    }
    return TemplateResponse(request, "admin/signin/second_factor.html", context)
