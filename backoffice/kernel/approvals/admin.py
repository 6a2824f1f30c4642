"""The queue "Waiting for a second person": every proposed change, its page with the diff, and the confirmation
pages that approve, reject or withdraw it. Also the admin kit that turns an edit into a proposed change.
"""

import difflib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin import DeclaredFiltersOnly
from backoffice.kernel.approvals.edits import edit_propose, editable_names
from backoffice.kernel.approvals.kinds import all_kinds, kind_of
from backoffice.kernel.approvals.models import ChangeProposal, ChangeStatus
from backoffice.kernel.approvals.services import approval_refusal, change_approve, change_reject, change_withdraw

DECISIONS = {
    "approve": (_("Approve this change?"), _("Yes, approve and apply it")),
    "reject": (_("Reject this change?"), _("Yes, reject it")),
    "withdraw": (_("Withdraw your change?"), _("Yes, withdraw it")),
}


class KindFilter(admin.SimpleListFilter):
    """The kinds of change the apps registered."""

    title = _("kind of change")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Every registered kind, by its label."""
        return [(kind.code, kind.label) for kind in all_kinds()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Narrow to the chosen kind."""
        return queryset.filter(kind=self.value()) if self.value() else queryset


class ReasonForm(forms.Form):
    """Why a change is rejected (required to reject)."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def shown(value: object) -> str:
    """Show a value of the diff: an empty one as a dash."""
    return "—" if value in (None, "") else str(value)


def diff_rows(proposal: ChangeProposal) -> list[dict]:
    """Return the diff as the page shows it: the field's label, before, after, and a line diff for long texts."""
    kind = kind_of(proposal.kind)
    rows = []
    for name, (before, after) in proposal.diff.items():
        if kind is not None:
            before, after = kind.shown(name, before), kind.shown(name, after)
        lines = []
        if "\n" in f"{before or ''}{after or ''}":
            lines = list(
                difflib.unified_diff(str(before or "").splitlines(), str(after or "").splitlines(), lineterm="", n=2)
            )[2:]
        label = kind.label_of(name) if kind else name
        rows.append({"label": label, "before": shown(before), "after": shown(after), "lines": lines})
    return rows


@admin.register(ChangeProposal)
class ChangeProposalAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Changes waiting for a second person: a checker sees the kinds they may approve, a maker their own."""

    list_display = ["number", "kind_label", "target_label", "maker", "made_at", "status", "checker", "decided_at"]
    list_filter = ["status", KindFilter, "maker"]
    list_select_related = ["maker", "checker"]
    search_fields = ["target_label", "note", "maker__username"]
    change_list_template = "admin/backoffice/changeproposal/change_list.html"

    @admin.display(description=_("change"), ordering="id")
    def number(self, obj: ChangeProposal) -> str:
        """Link to the change's page."""
        return format_html(
            '<a href="{}">#{}</a>', reverse("admin:backoffice_changeproposal_change", args=[obj.pk]), obj.pk
        )

    @admin.display(description=_("kind of change"), ordering="kind")
    def kind_label(self, obj: ChangeProposal) -> str:
        """The kind's label."""
        kind = kind_of(obj.kind)
        return str(kind.label) if kind else obj.kind

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """A superuser sees every change; anyone else their own and those of the kinds they may approve."""
        rows = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return rows
        kinds = [kind.code for kind in all_kinds() if user.has_perm(kind.approve_permission)]
        return rows.filter(Q(maker=user) | Q(kind__in=kinds))

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Changes are proposed from the screens of what they change."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A proposal is a record: it is decided, never edited."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A proposal is a record, whatever became of it."""
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Title the list as the queue it is."""
        return super().changelist_view(request, {"title": _("Waiting for a second person"), **(extra_context or {})})

    def get_urls(self) -> list:
        """Add the decision pages."""
        view = self.admin_site.admin_view(self.decide_view)
        decide = path("<int:object_id>/decide/<str:decision>/", view, name="backoffice_changeproposal_decide")
        return [decide, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Show the change: what it changes, before → after, who proposed and who decided, and what this viewer may do."""
        proposal = get_object_or_404(self.get_queryset(request).select_related("maker", "checker"), pk=object_id)
        context = self._context(request, proposal)
        context["title"] = _("Change #%(id)s") % {"id": proposal.pk}
        return TemplateResponse(request, "admin/backoffice/changeproposal/detail.html", context)

    def decide_view(self, request: HttpRequest, object_id: int, decision: str) -> HttpResponse:
        """Confirm a decision (approve, reject with a reason, withdraw), then make it through the service."""
        proposal = get_object_or_404(self.get_queryset(request).select_related("maker", "checker"), pk=object_id)
        if decision not in DECISIONS or decision not in self._offered(request, proposal):
            raise PermissionDenied
        form = ReasonForm(request.POST or None) if decision == "reject" else None
        errors = []
        if request.method == "POST" and request.POST.get("confirm") == "yes" and (form is None or form.is_valid()):
            try:
                decided = self._decide(request, proposal, decision, form)
            except (ValidationError, PermissionDenied) as exc:
                errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            else:
                messages.success(
                    request,
                    _("Change #%(id)s is now: %(status)s.")
                    % {"id": decided.pk, "status": decided.get_status_display()},
                )
                return HttpResponseRedirect(reverse("admin:backoffice_changeproposal_change", args=[decided.pk]))
        title, submit = DECISIONS[decision]
        context = {**self._context(request, proposal), "title": title, "submit_label": submit, "form": form}
        context.update({"decision": decision, "errors": errors})
        return TemplateResponse(request, "admin/backoffice/changeproposal/decide.html", context)

    def _decide(
        self, request: HttpRequest, proposal: ChangeProposal, decision: str, form: forms.Form | None
    ) -> ChangeProposal:
        if decision == "approve":
            return change_approve(proposal=proposal, actor=request.user)
        if decision == "reject":
            return change_reject(proposal=proposal, actor=request.user, reason=form.cleaned_data["reason"])
        return change_withdraw(proposal=proposal, actor=request.user)

    def _offered(self, request: HttpRequest, proposal: ChangeProposal) -> list[str]:
        """The decisions this viewer may make on the change now."""
        if proposal.status != ChangeStatus.PENDING:
            return []
        if proposal.maker_id == request.user.pk:
            return ["withdraw"]
        return ["approve", "reject"] if approval_refusal(request.user, proposal) is None else []

    def _context(self, request: HttpRequest, proposal: ChangeProposal) -> dict:
        offered = self._offered(request, proposal)
        refusal = approval_refusal(request.user, proposal) if proposal.status == ChangeStatus.PENDING else None
        kind = kind_of(proposal.kind)
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "proposal": proposal,
            "kind_label": kind.label if kind else proposal.kind,
            "rows": diff_rows(proposal),
            "offered": offered,
            "refusal": refusal if not offered else None,
        }


class EditsWaitForASecondPerson:
    """An admin whose edits of an existing object become a proposed change instead of being saved.

    ``change_kind`` names the registered kind; the edited fields (the form's changed data) are proposed
    with their new values, and the object stays as it is until another person approves. A new object,
    and inlines, are saved as usual.
    """

    change_kind: str = ""

    def save_model(self, request: HttpRequest, obj: object, form: forms.ModelForm, change: bool) -> None:
        """Propose the edit of an existing object's fields; save a new object as usual."""
        names = [name for name in form.changed_data if name in editable_names(obj)]
        if not change or not names:
            super().save_model(request, obj, form, change)
            return
        try:
            obj._proposed_change = edit_propose(kind=self.change_kind, obj=obj, names=names, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            obj._proposal_refused = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)

    def log_change(self, request: HttpRequest, obj: object, message: object) -> object:
        """Log nothing for a change not made (it is the proposal that is kept)."""
        if _proposal_outcome(obj):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: object) -> HttpResponse:
        """Send the maker to their proposed change, or back to the form with the reason it was refused."""
        if _proposal_outcome(obj):
            return proposal_response(request, obj)
        return super().response_change(request, obj)


def _proposal_outcome(obj: object) -> bool:
    return getattr(obj, "_proposed_change", None) is not None or bool(getattr(obj, "_proposal_refused", None))


def proposal_response(request: HttpRequest, obj: object) -> HttpResponse:
    """Answer a form whose save became a proposed change (``obj._proposed_change``) or was refused
    (``obj._proposal_refused``): the change's page, or the form again with the reason."""
    refused = getattr(obj, "_proposal_refused", None)
    if refused:
        messages.error(request, refused)
        return HttpResponseRedirect(request.get_full_path())
    proposal = obj._proposed_change
    messages.success(
        request,
        _("Nothing is changed yet: your change #%(id)s waits for a second person to approve it.") % {"id": proposal.pk},
    )
    return HttpResponseRedirect(reverse("admin:backoffice_changeproposal_change", args=[proposal.pk]))
