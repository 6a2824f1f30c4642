"""Letters in the admin: the approval queue, the review page, templates, phrase lists and firms."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin

from accounts.positions import line_balance
from backoffice.kernel.admin import DeclaredFiltersOnly, ReadOnlyAdmin, money_column
from cases.casework.scoping import CaseScoped
from cases.models import Case, CaseTransition
from letters.admin_filters import LetterFunnelFilter, RenderingFilter
from letters.approvals import template_activation_propose
from letters.choices import DispatchChannel, LetterStatus
from letters.dispatch import letter_dispatch, letter_record_delivery
from letters.documents import build_snapshot, render_html, sample_snapshot
from letters.forms import ApproveForm, DispatchForm, RecordDeliveryForm, RejectForm
from letters.models import (
    LawFirm,
    Lawyer,
    Letter,
    LetterAwaitingApproval,
    LetterTemplate,
)
from letters.rendering import render_pdf
from letters.selectors import rendering_counts
from letters.services import (
    letter_approve,
    letter_redraft,
    letter_reject,
    letter_render_retry,
    stored_pdf_hash,
    template_problems,
    template_save,
)


class LawyerInline(admin.TabularInline):
    """A firm's lawyers and the logins they approve with."""

    model = Lawyer
    extra = 0
    raw_id_fields = ["user"]


@admin.register(LawFirm)
class LawFirmAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Law firms and their lawyers."""

    list_display = ["name", "licence_number", "phone", "engagement_reference", "cost_per_letter"]
    search_fields = ["name", "licence_number"]
    inlines = [LawyerInline]
    cost_per_letter = money_column("cost_per_letter_fen", _("cost per letter"))


class LetterTemplateForm(forms.ModelForm):
    """A template version's fields; a version in use is never edited (saving makes the next version)."""

    class Meta:
        model = LetterTemplate
        fields = ["code", "name", "kind", "language", "firm", "body_html", "print_css"]


@admin.register(LetterTemplate)
class LetterTemplateAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Template versions: editing a used version saves a new one; activating one waits for a second legal reviewer."""

    list_display = ["code", "version", "name", "kind", "language", "firm", "is_active", "created_at", "preview_link"]
    list_filter = ["kind", "language", "is_active", "firm"]
    search_fields = ["code", "name"]
    readonly_fields = ["version", "is_active", "created_at", "created_by", "problems"]
    fields = ["code", "name", "kind", "language", "firm", "body_html", "print_css", *readonly_fields]
    actions = ["activate"]
    form = LetterTemplateForm

    @admin.display(description=_("preview"))
    def preview_link(self, obj: LetterTemplate) -> str:
        """Link to the PDF preview."""
        url = reverse("admin:letters_lettertemplate_preview", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("Preview PDF"))

    @admin.display(description=_("what stops activation"))
    def problems(self, obj: LetterTemplate) -> str:
        """List missing elements and prohibited phrases, or say there are none."""
        if not obj.pk:
            return "—"
        found = template_problems(obj)
        return "; ".join(str(problem) for problem in found) or _("Nothing: it can be activated.")

    def save_model(self, request: HttpRequest, obj: LetterTemplate, form: object, change: bool) -> None:
        """Save through the service, which keeps used versions unchanged."""
        before = obj.pk
        template_save(template=obj, actor=request.user)
        if before and obj.pk != before:
            messages.info(
                request,
                _("That version is in use or was used by letters, so your edits were saved as version %(v)s.")
                % {"v": obj.version},
            )

    @admin.action(description=_("Propose activating the selected versions (another legal reviewer approves)"))
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Propose activating each version; it waits for a legal reviewer other than its author and the proposer."""
        for template in queryset:
            try:
                proposal = template_activation_propose(template=template, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.error(request, f"{template}: {text}")
            else:
                messages.success(
                    request,
                    _("Activating %(t)s waits for a second person (change #%(id)s).")
                    % {"t": template, "id": proposal.pk},
                )

    def get_urls(self) -> list:
        """Add the preview."""
        preview = path(
            "<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="letters_lettertemplate_preview"
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Render the template as an inline PDF with one of the viewer's open legal cases, or sample data."""
        template = get_object_or_404(LetterTemplate, pk=pk)
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        snapshot = self._preview_snapshot(request, template)
        try:
            pdf = render_pdf(render_html(template, snapshot), snapshot=snapshot)
        except Exception as exc:
            return HttpResponse(
                _("The template does not render: %(error)s") % {"error": exc},
                status=422,
                content_type="text/plain; charset=utf-8",
            )
        return HttpResponse(
            pdf,
            content_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="preview-{template.code}.pdf"'},
        )

    def _preview_snapshot(self, request: HttpRequest, template: LetterTemplate) -> dict:
        # A real case only among those the viewer may see: the preview prints its customer.
        case = Case.objects.visible_to(request.user).open().with_customer().filter(stage="legal").first()
        if case is None:
            return sample_snapshot(template)
        lawyer = template.firm.lawyers.first() if template.firm else None
        today = timezone.localdate()
        overdue = line_balance(credit_line_id=case.credit_line_id, as_of=today).overdue
        return build_snapshot(
            case=case, template=template, lawyer=lawyer, number="PREVIEW", code="PREVIEW", as_of=today, overdue=overdue
        )


class LetterReview(CaseScoped, ReadOnlyAdmin):
    """The letter list and the review page: PDF inline, snapshot, case summary, and the actions.

    Letters are drafted from a case, change only through the review actions, and are never
    deleted (they are evidence).
    """

    list_display = ["number", "case", "kind", "language", "firm", "status", "requested_by", "requested_at"]
    list_filter = [
        "status",
        RenderingFilter,
        "firm",
        "template",
        "kind",
        "language",
        "requested_at",
        LetterFunnelFilter,
    ]
    search_fields = ["=number", "case__credit_line__number"]
    list_select_related = ["case", "firm", "requested_by"]
    date_hierarchy = "requested_at"
    actions = ["approve_selected", "retry_rendering"]
    change_form_template = "admin/letters/letter/review.html"

    def get_urls(self) -> list:
        """Add the PDF download and the review actions."""
        name = self.model._meta.model_name
        urls = [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(xframe_options_sameorigin(self.pdf_view)),
                name=f"letters_{name}_pdf",
            ),
            path("<int:pk>/act/<str:action>/", self.admin_site.admin_view(self.act_view), name=f"letters_{name}_act"),
        ]
        return urls + super().get_urls()

    def _letter(self, request: HttpRequest, pk: int) -> Letter:
        letter = get_object_or_404(
            self.get_queryset(request).select_related("case__credit_line__customer", "firm", "lawyer"), pk=pk
        )
        if not self.has_view_permission(request, letter):
            raise PermissionDenied
        return letter

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Serve the PDF inline, only if its hash is still the one recorded."""
        letter = self._letter(request, pk)
        if not letter.pdf:
            return HttpResponse(
                _("This letter has not been rendered yet."), status=404, content_type="text/plain; charset=utf-8"
            )
        if stored_pdf_hash(letter) != letter.pdf_sha256:
            return HttpResponse(
                _("The stored PDF does not match its recorded SHA-256; it is not served."),
                status=409,
                content_type="text/plain; charset=utf-8",
            )
        return FileResponse(letter.pdf.open("rb"), content_type="application/pdf", filename=f"{letter.number}.pdf")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Show the review page."""
        letter = self._letter(request, int(object_id))
        extra = {
            "letter": letter,
            "pdf_url": reverse(f"admin:letters_{self.model._meta.model_name}_pdf", args=[letter.pk]),
            "snapshot_json": json.dumps(letter.snapshot, ensure_ascii=False, indent=2),
            "transitions": CaseTransition.objects.filter(case=letter.case)
            .select_related("actor")
            .order_by("created_at", "id"),
            "approve_form": ApproveForm(initial={"seen_sha256": letter.pdf_sha256}),
            "reject_form": RejectForm(),
            "dispatch_form": DispatchForm(
                initial={
                    "channel": letter.dispatch_channel or DispatchChannel.EMAIL,
                    "address": letter.dispatch_address or letter.case.credit_line.customer.email,
                }
            ),
            "can_send": letter.status == LetterStatus.DISPATCH_FAILED
            or (letter.status == LetterStatus.APPROVED and letter.next_attempt_at is None),
            "delivery_form": RecordDeliveryForm(),
            "awaits_delivery": letter.status == LetterStatus.SENT
            and letter.dispatch_channel == DispatchChannel.POST
            and letter.arrived_at is None,
            "act_url": f"admin:letters_{self.model._meta.model_name}_act",
            "can_review": request.user.has_perm("letters.approve_letter"),
            "can_dispatch": request.user.has_perm("letters.dispatch_letter"),
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def act_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        """Approve, reject, dispatch or redraft, then come back to the review page."""
        letter = self._letter(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse(f"admin:letters_{self.model._meta.model_name}_change", args=[pk]))
        handlers = {
            "approve": self._approve,
            "reject": self._reject,
            "dispatch": self._dispatch,
            "record_delivery": self._record_delivery,
            "redraft": self._redraft,
        }
        if action not in handlers:
            raise PermissionDenied
        try:
            target = handlers[action](request, letter)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            target = letter
        # Back to the letter's own page: after approval it has left the approval queue.
        return HttpResponseRedirect(reverse("admin:letters_letter_change", args=[target.pk]))

    def _approve(self, request: HttpRequest, letter: Letter) -> Letter:
        form = ApproveForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("The approval did not say which PDF was reviewed."))
        letter = letter_approve(letter=letter, actor=request.user, seen_sha256=form.cleaned_data["seen_sha256"])
        messages.success(request, _("Letter %(number)s approved.") % {"number": letter.number})
        return letter

    def _reject(self, request: HttpRequest, letter: Letter) -> Letter:
        form = RejectForm(request.POST)
        reason = form.data.get("reason", "")
        letter = letter_reject(letter=letter, actor=request.user, reason=reason)
        messages.success(request, _("Letter %(number)s rejected.") % {"number": letter.number})
        return letter

    def _dispatch(self, request: HttpRequest, letter: Letter) -> Letter:
        form = DispatchForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("Choose how the letter is sent."))
        letter = letter_dispatch(letter=letter, actor=request.user, **form.cleaned_data)
        # An e-mail was tried once the dispatch committed: say what became of it.
        letter.refresh_from_db()
        level, text = _dispatch_outcome(letter)
        messages.add_message(request, level, text)
        return letter

    def _record_delivery(self, request: HttpRequest, letter: Letter) -> Letter:
        form = RecordDeliveryForm(request.POST)
        if not form.is_valid():
            raise ValidationError(" ".join(f"{error}" for errors in form.errors.values() for error in errors))
        letter = letter_record_delivery(letter=letter, actor=request.user, arrived_at=form.cleaned_data["arrived_at"])
        messages.success(
            request,
            _("Delivery of letter %(number)s recorded; the limitation period is interrupted on %(date)s.")
            % {"number": letter.number, "date": letter.limitation_interrupted_on},
        )
        return letter

    def _redraft(self, request: HttpRequest, letter: Letter) -> Letter:
        new = letter_redraft(letter=letter, actor=request.user)
        messages.success(
            request, _("Letter %(new)s drafted to replace %(old)s.") % {"new": new.number, "old": letter.number}
        )
        return new

    @admin.action(description=_("Approve the selected letters…"), permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask for confirmation listing every letter, then approve each one bound to the hash shown."""
        letters = list(queryset.select_related("case", "firm").order_by("number"))
        if request.POST.get("confirm") == "yes":
            approved, refused = 0, []
            for letter in letters:
                try:
                    letter_approve(
                        letter=letter, actor=request.user, seen_sha256=request.POST.get(f"sha_{letter.pk}", "")
                    )
                    approved += 1
                except (ValidationError, PermissionDenied) as exc:
                    refused.append(f"{letter.number}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            messages.success(
                request, ngettext("%(n)d letter approved.", "%(n)d letters approved.", approved) % {"n": approved}
            )
            for line in refused:
                messages.error(request, line)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Approve these letters?"),
            "letters": letters,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/letters/letter/approve_confirmation.html", context)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        """Only legal reviewers see the bulk approval."""
        return request.user.has_perm("letters.approve_letter")

    @admin.action(description=_("Retry rendering the selected letters…"), permissions=["retry_rendering"])
    def retry_rendering(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask for confirmation listing every letter and its last error, then make each a draft to render again."""
        letters = list(queryset.select_related("case").order_by("number"))
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Retry rendering these letters?"),
                "letters": letters,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/letters/letter/retry_rendering_confirmation.html", context)
        retried = 0
        for letter in letters:
            try:
                letter_render_retry(letter=letter, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"{letter.number}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
                continue
            self.log_change(request, letter, _("Rendering retried after it failed."))
            retried += 1
        messages.success(
            request,
            ngettext("%(n)d letter is rendered again.", "%(n)d letters are rendered again.", retried) % {"n": retried},
        )
        return None

    def has_retry_rendering_permission(self, request: HttpRequest) -> bool:
        """Only those who may retry rendering see the action."""
        return request.user.has_perm("letters.retry_letter_rendering")


def _dispatch_outcome(letter: Letter) -> tuple[int, str]:
    """Return the message level and text that tell a person where their dispatch stands."""
    values = {"number": letter.number, "reason": letter.cancellation_reason, "error": letter.dispatch_last_error}
    if letter.status == LetterStatus.CANCELLED:
        return messages.WARNING, _("Letter %(number)s was not sent and is cancelled: %(reason)s") % values
    if letter.status == LetterStatus.DISPATCH_FAILED:
        return messages.ERROR, _("Letter %(number)s could not be e-mailed: %(error)s") % values
    if letter.status == LetterStatus.SENT and letter.dispatch_channel == DispatchChannel.EMAIL:
        return messages.SUCCESS, _("Letter %(number)s sent: the mail server accepted it.") % values
    if letter.status == LetterStatus.SENT:
        return messages.SUCCESS, _(
            "Letter %(number)s handed to registered post; record its delivery when the tracking shows it."
        ) % values
    values["when"] = timezone.localtime(letter.next_attempt_at).strftime("%Y-%m-%d %H:%M")
    if letter.dispatch_last_error:
        return messages.WARNING, _(
            "Letter %(number)s was refused by the mail server (%(error)s); next try at %(when)s."
        ) % values
    return messages.INFO, _("Letter %(number)s is queued for e-mail; next try at %(when)s.") % values


@admin.register(Letter)
class LetterAdmin(LetterReview):
    """Every letter."""


@admin.register(LetterAwaitingApproval)
class LetterAwaitingApprovalAdmin(LetterReview):
    """The approval queue, oldest request first."""

    list_display = ["number", "case", "kind", "language", "firm", "requested_by", "requested_at", "waiting"]
    list_filter = ["firm", "kind", "language", "requested_at"]
    ordering = ["requested_at"]
    actions = ["approve_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Only letters awaiting approval."""
        return super().get_queryset(request).filter(status=LetterStatus.PENDING_APPROVAL)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Show the queue with how many letters still wait to be rendered and how many failed rendering."""
        visible = LetterReview.get_queryset(self, request)
        extra = {"rendering": rendering_counts(visible), "letters_url": reverse("admin:letters_letter_changelist")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    @admin.display(description=_("waiting"), ordering="requested_at")
    def waiting(self, obj: Letter) -> str:
        """How long the letter has been waiting."""
        return timesince(obj.requested_at)
