"""Promises to pay: the list with each agent's kept rate, the filter by promise, and recording one from the case page."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin import ReadOnlyAdmin, money_column
from cases.admin.case_page import CasePage
from cases.casework.models import Case
from cases.casework.scoping import CaseScoped
from cases.choices import PromiseStatus
from cases.promises.models import Promise
from cases.promises.services import promise_record


class PromiseStatusFilter(admin.SimpleListFilter):
    """Filter cases by the state of their promises to pay."""

    title = _("promise")
    parameter_name = "promise"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer pending, kept, broken, and no promise at all."""
        return [*PromiseStatus.choices, ("none", _("No promise"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep cases with a promise in the chosen state (or with none)."""
        value = self.value()
        if value == "none":
            return queryset.filter(~Exists(Promise.objects.filter(case=OuterRef("pk"))))
        if value in PromiseStatus.values:
            return queryset.filter(Exists(Promise.objects.filter(case=OuterRef("pk"), status=value)))
        return queryset


class PromiseForm(forms.Form):
    """An amount and the date the customer promised to pay it by."""

    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    due_date = forms.DateField(label=_("Promised date"), widget=forms.DateInput(attrs={"type": "date"}))


class CasePromiseActions(CasePage):
    """*Record a promise to pay* on the case page."""

    def case_page_urls(self) -> list[URLPattern]:
        """Add the promise page."""
        return [self.case_url("promise/", self.promise_view, "promise"), *super().case_page_urls()]

    def promise_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Record a promise to pay; the case is held until the promised date plus grace."""

        def record(case: Case, data: dict) -> str:
            promise_record(case=case, actor=request.user, **data)
            return _("Promise recorded; escalation waits until it is judged.")

        return self.case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("cases.add_promise"),
            form_class=PromiseForm,
            title=_("Record a promise to pay"),
            act=record,
        )


@admin.register(Promise)
class PromiseAdmin(CaseScoped, ReadOnlyAdmin):
    """Promises to pay, with each agent's kept rate for supervisors."""

    list_display = ["created_at", "case", "amount", "due_date", "status", "created_by", "settled_on"]
    list_filter = ["status", "created_by", "due_date"]
    list_select_related = ["case", "created_by"]
    amount = money_column("amount_fen", _("amount"))
    change_list_template = "admin/cases/promise/change_list.html"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Add the kept rate per agent over judged promises, for supervisors (who see every case)."""
        if not request.user.has_perm("cases.view_all_cases"):
            return super().changelist_view(request, extra_context)
        rates = (
            Promise.objects.exclude(status="pending")
            .values("created_by__username")
            .annotate(judged=Count("id"), kept=Count("id", filter=Q(status="kept")))
            .order_by("created_by__username")
        )
        rows = [
            {
                "agent": r["created_by__username"],
                "judged": r["judged"],
                "kept": r["kept"],
                "rate": round(100 * r["kept"] / r["judged"]),
            }
            for r in rates
        ]
        return super().changelist_view(request, {**(extra_context or {}), "kept_rates": rows})
