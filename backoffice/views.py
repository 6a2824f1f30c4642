"""The admin's landing page: agents start on their queue, everyone else on the index."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from backoffice.kernel.roles import AGENT


def landing(request: HttpRequest) -> HttpResponse:
    """Send collection agents to *My cases*; show everyone else the admin index."""
    user = request.user
    if user.is_authenticated and user.is_staff and not user.is_superuser and user.groups.filter(name=AGENT).exists():
        return redirect("admin:cases_mycase_changelist")
    return admin.site.admin_view(admin.site.index)(request)
