"""The lockout: the page a locked-out sign-in gets, and the security event it is logged as (ids only)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.serving import security_event

LOCKED_OUT_STATUS = 429


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """Answer a locked-out sign-in with the lockout page (``AXES_LOCKOUT_CALLABLE``): no form, no username echoed."""
    context = {
        **admin.site.each_context(request),
        "title": _("Signing in is locked"),
        "cooloff_minutes": settings.AXES_COOLOFF_MINUTES,
    }
    response = TemplateResponse(request, "admin/signin/locked_out.html", context, status=LOCKED_OUT_STATUS)
    return response.render()


def user_id_for(username: str | None) -> int | None:
    """Return the id of the user of this name, or None when no one has it."""
    if not username:
        return None
    return get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()


def log_locked_out(
    sender: object, request: HttpRequest, username: str | None, ip_address: str, **kwargs: object
) -> None:
    """Log a refused sign-in of a locked-out username and address by the user's id (the name and address stay out)."""
    security_event("login_locked_out", user_id=user_id_for(username), request_id=getattr(request, "request_id", None))


def connect_signals() -> None:
    """Log every lockout (called once, when the apps are ready)."""
    from axes.signals import user_locked_out  # noqa: PLC0415 - axes' signals import its models: apps must be ready

    user_locked_out.connect(log_locked_out, dispatch_uid="backoffice.security.locked_out")
