"""The admin's landing page (agents start on their queue, everyone else on the index), the site's icon, and the
API's 400 and 404."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found

from backoffice.kernel.roles import AGENT
from backoffice.reports.access import may_read_reports


def landing(request: HttpRequest) -> HttpResponse:
    """Send collection agents to *My cases* and supervisors to the morning dashboard; show everyone else the index."""
    user = request.user
    if user.is_authenticated and user.is_staff and not user.is_superuser:
        if user.groups.filter(name=AGENT).exists():
            return redirect("admin:cases_mycase_changelist")
        if may_read_reports(user):
            return redirect("dashboard")
    return admin.site.admin_view(admin.site.index)(request)


def favicon(request: HttpRequest) -> HttpResponse:
    """Send a browser's ``/favicon.ico`` to the icon among the static files (hashed and cached when collected)."""
    return HttpResponsePermanentRedirect(static("backoffice/favicon.ico"))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A 404 in the API's one error format under ``/api/``, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        error = {"index": None, "field": None, "value": None, "code": "not_found", "message": _("No such address.")}
        return JsonResponse({"errors": [error]}, status=404)
    return page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A 400 in the API's one error format under ``/api/`` (a body Django refused before the API read it)."""
    if request.path.startswith("/api/"):
        error = {"index": None, "field": None, "value": None, "code": "bad_request", "message": _("Bad request.")}
        return JsonResponse({"errors": [error]}, status=400)
    return django_bad_request(request, exception)
