"""What every action on the case page and the case list shares: one form about one case, and bulk actions
with a confirmation page. Each sub-domain's admin module adds its own actions on this base."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case
from cases.casework.numbers import case_number
from cases.casework.services import CaseConflict

# Bulk actions list every case they change on their confirmation page; past this, in rounds.
BULK_LIMIT = 500


class TransitionForm(forms.Form):
    """A stage change, a recall: a reason, written down."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def case_link_html(case_id: int) -> str:
    """Return a link to the case page, its number taken from the id (no join)."""
    return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[case_id]), case_number(case_id))


def _act_on_each(cases: list[Case], data: dict, act: Callable[[Case, dict], object]) -> None:
    """Call ``act`` on every case; raise one ``ValidationError`` naming each case refused, and why."""
    errors = []
    for case in cases:
        try:
            act(case, data)
        except ValidationError as exc:
            errors.extend(f"{case.number}: {message}" for message in exc.messages)
    if errors:
        raise ValidationError(errors)


class CasePage:
    """The base of the case admin: sub-domain mixins add URLs (``case_page_urls``) and actions on it."""

    def case_page_urls(self) -> list[URLPattern]:
        """Return the case pages' own URLs; each mixin adds its own and calls up."""
        return []

    def case_url(self, route: str, view: Callable, name: str) -> URLPattern:
        """Return the URL of one case page action, ``<case id>/<route>``, behind the admin's login."""
        return path(f"<int:object_id>/{route}", self.admin_site.admin_view(view), name=f"cases_case_{name}")

    def get_urls(self) -> list:
        """The case page actions, before the admin's own object pages."""
        return [*self.case_page_urls(), *super().get_urls()]

    def case_form(
        self,
        request: HttpRequest,
        object_id: int,
        *,
        allowed: Callable[[Case], bool],
        form_class: type,
        title: str,
        act: Callable[[Case, dict], str],
    ) -> HttpResponse:
        """Show a form about one case; on a valid post call ``act`` (a service) and go back to the case page.

        Service errors land on the form, keyed by its own field names or not keyed at all.
        """
        case = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not allowed(case):
            raise PermissionDenied
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                messages.success(request, act(case, form.cleaned_data))
            except ValidationError as exc:
                form.add_error(None, exc)
            except CaseConflict as exc:
                messages.error(request, str(exc))
                return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
            else:
                return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "case": case,
            "form": form,
            "title": title,
            "move_label": title,
        }
        return TemplateResponse(request, "admin/cases/case/move.html", context)

    def bulk(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        form_class: type,
        act: Callable[[Case, dict], object],
        done: Callable[[int, dict], str],
        action: str,
        title: str,
        explanation: str,
        submit_label: str,
    ) -> HttpResponse | None:
        """List every selected case with a form; on confirmation call ``act`` (a service) on each, all or none.

        Every case a service refuses is named on the page with why, and then none is changed.
        """
        cases = list(queryset.with_customer().select_related("agency").order_by("id")[: BULK_LIMIT + 1])
        form = form_class(request.POST if request.POST.get("confirm") == "yes" else None)
        problems = []
        if len(cases) > BULK_LIMIT:
            cases = cases[:BULK_LIMIT]
            problems = [
                _(
                    "Only the first %(n)d selected cases are listed and will be changed; run the action again for the rest."
                )
                % {"n": BULK_LIMIT}
            ]
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    _act_on_each(cases, form.cleaned_data, act)
                messages.success(request, done(len(cases), form.cleaned_data))
                return None
            except (ValidationError, PermissionDenied) as exc:
                problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "explanation": explanation,
            "submit_label": submit_label,
            "action": action,
            "cases": cases,
            "form": form,
            "problems": problems,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/case/bulk_confirmation.html", context)
