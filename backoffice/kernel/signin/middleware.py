"""Holds a user whose role requires a second factor to enrolling one, or to signing in with it."""

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from backoffice.kernel.signin.second_factor import confirmed_device, second_factor_required

ENROLMENT_URL_NAME = "second_factor"


class SecondFactorRequiredMiddleware:
    """Send a signed-in user whose role requires a second factor and who has not used one to where they get one.

    Without a device, every page but enrolment, signing out and the language switch redirects to enrolment.
    With a device but a session not verified by it (one from before the device), the session ends.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Keep the rest of the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Let the request through, or redirect it."""
        user = request.user
        if not second_factor_required(user) or user.is_verified() or _always_open(request):
            return self.get_response(request)
        if confirmed_device(user) is None:
            return redirect(ENROLMENT_URL_NAME)
        logout(request)
        return redirect("admin:login")


def _always_open(request: HttpRequest) -> bool:
    """Tell whether the request is for a page every signed-in user reaches: enrolment, sign-out, language."""
    return request.path_info in (reverse(ENROLMENT_URL_NAME), reverse("admin:logout"), reverse("set_language"))
