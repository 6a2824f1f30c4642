"""Settlement and write-off proposals: proposing one from the case page, the supervisors' queue and the decision page."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin import ReadOnlyAdmin, money_column
from cases.admin.case_page import CasePage, case_link_html
from cases.casework.models import Case
from cases.casework.scoping import CaseScoped, FoundByCaseNumber
from cases.choices import ProposalKind
from cases.settlements.approvals import large_proposal_approve_first
from cases.settlements.models import Proposal
from cases.settlements.services import needs_second_approval, proposal_approve, proposal_reject, proposal_submit


class ProposalForm(forms.Form):
    """A settlement (with the agreed amount) or a write-off, and why."""

    kind = forms.ChoiceField(label=_("Proposal"), choices=ProposalKind.choices)
    amount = forms.DecimalField(
        label=_("Agreed amount (yuan, settlements only)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DecisionForm(forms.Form):
    """A supervisor's note on a decision; required to reject."""

    note = forms.CharField(
        label=_("Note (required to reject)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )


class CaseProposalActions(CasePage):
    """*Propose a settlement or write-off* on the case page."""

    def case_page_urls(self) -> list[URLPattern]:
        """Add the proposal page."""
        return [self.case_url("propose/", self.propose_view, "propose"), *super().case_page_urls()]

    def propose_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Propose a settlement or a write-off; it waits for a supervisor who is not the proposer."""

        def propose(case: Case, data: dict) -> str:
            proposal = proposal_submit(case=case, actor=request.user, **data)
            return _("%(kind)s proposed; it waits for a supervisor.") % {"kind": proposal.get_kind_display()}

        return self.case_form(
            request,
            object_id,
            allowed=lambda case: case.is_open and request.user.has_perm("cases.add_proposal"),
            form_class=ProposalForm,
            title=_("Propose a settlement or write-off"),
            act=propose,
        )


@admin.register(Proposal)
class ProposalAdmin(CaseScoped, FoundByCaseNumber, ReadOnlyAdmin):
    """The supervisors' queue of settlement and write-off proposals, each decided on its own page."""

    list_display = ["proposed_at", "decide_link", "kind", "amount", "balance", "case_link", "proposed_by", "status"]
    list_filter = ["status", "kind", "proposed_by", "proposed_at"]
    list_select_related = ["proposed_by"]
    search_fields = ["reason"]
    amount = money_column("amount_fen", _("amount"))
    balance = money_column("balance_fen", _("balance when proposed"))

    @admin.display(description=_("proposal"), ordering="id")
    def decide_link(self, obj: Proposal) -> str:
        """Link to the decision page."""
        return format_html('<a href="{}">#{}</a>', reverse("admin:cases_proposal_decide", args=[obj.pk]), obj.pk)

    @admin.display(description=_("case"), ordering="case_id")
    def case_link(self, obj: Proposal) -> str:
        """Link to the case page."""
        return case_link_html(obj.case_id)

    def get_urls(self) -> list:
        """Add the decision page."""
        view = self.admin_site.admin_view(self.decide_view)
        return [path("<int:object_id>/decide/", view, name="cases_proposal_decide"), *super().get_urls()]

    def decide_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Show the proposal with its case to those who may read proposals; approve or reject it (another
        supervisor than the proposer)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        proposal = get_object_or_404(
            self.get_queryset(request).select_related("case__credit_line__customer"), pk=object_id
        )
        form = DecisionForm(request.POST or None)
        may_decide = request.user.has_perm("cases.decide_proposal") and proposal.proposed_by_id != request.user.pk
        large = needs_second_approval(proposal)
        if request.method == "POST" and form.is_valid() and large and "approve" in request.POST:
            return self._approve_first(request, proposal, form)
        if request.method == "POST" and form.is_valid():
            decide = proposal_approve if "approve" in request.POST else proposal_reject
            try:
                decided = decide(proposal=proposal, actor=request.user, note=form.cleaned_data["note"])
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
            else:
                messages.success(
                    request,
                    _("Proposal #%(id)s is now: %(status)s.")
                    % {"id": decided.pk, "status": decided.get_status_display()},
                )
                return HttpResponseRedirect(reverse("admin:cases_proposal_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "proposal": proposal,
            "case": proposal.case,
            "form": form,
            "may_decide": may_decide and proposal.status == "pending",
            "second_approval_above": settings.SECOND_APPROVAL_ABOVE_FEN if large else None,
            "title": _("Decide proposal #%(id)s") % {"id": proposal.pk},
        }
        return TemplateResponse(request, "admin/cases/proposal/decide.html", context)

    def _approve_first(self, request: HttpRequest, proposal: Proposal, form: DecisionForm) -> HttpResponse:
        """Give the first approval of a proposal above the limit; it waits for a collections manager."""
        try:
            change = large_proposal_approve_first(proposal=proposal, actor=request.user, note=form.cleaned_data["note"])
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
            return HttpResponseRedirect(reverse("admin:cases_proposal_decide", args=[proposal.pk]))
        messages.success(
            request,
            _("Your approval of proposal #%(id)s waits for a collections manager's (change #%(change)s).")
            % {"id": proposal.pk, "change": change.pk},
        )
        return HttpResponseRedirect(reverse("admin:backoffice_changeproposal_change", args=[change.pk]))
