"""Messages to customers: the template versions and their activation (by a second person), and the list of every message for supervisors."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import mask_mobile
from backoffice.kernel.admin import DeclaredFiltersOnly, MaskedPersonalData, ReadOnlyAdmin
from cases.admin.case_page import case_link_html
from cases.admin.filters import ProductPolicyFilter
from cases.casework.scoping import CaseScoped, FoundByCaseNumber
from cases.outreach.approvals import message_template_activation_propose
from cases.outreach.models import Message, MessageTemplate
from cases.outreach.rendering import MESSAGE_PLACEHOLDERS
from cases.outreach.selectors import STOP_RULES, message_day_summary, message_stop_text
from cases.outreach.services import message_template_problems, message_template_save

# The days the message list offers to pick; any other day can be given in the address.
PICKABLE_DAYS = 14


def _placeholder_help() -> str:
    listed = "; ".join(f"{{{name}}}: {meaning}" for name, meaning in MESSAGE_PLACEHOLDERS.items())
    return f"{_('Placeholders you may use:')} {listed}"


class MessageTemplateForm(forms.ModelForm):
    """A template's wording, refused with every phrase, placeholder or missing SMS code named on its field."""

    class Meta:
        model = MessageTemplate
        fields = ["code", "channel", "language", "subject", "body", "provider_template_code"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        """List the placeholders under the text, in the viewer's language."""
        super().__init__(*args, **kwargs)
        if "body" in self.fields:
            self.fields["body"].help_text = _placeholder_help()

    def _post_clean(self) -> None:
        super()._post_clean()
        # The service's own checks, on the edited wording: the page shows them by field before saving.
        for field, problems in message_template_problems(self.instance).items():
            self.add_error(field if field in self.fields else None, problems)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Template versions: editing a version in use saves the next one; activating one waits for a second person."""

    form = MessageTemplateForm
    list_display = ["code", "channel", "language", "version", "is_active", "created_by", "activated_by", "activated_at"]
    list_filter = ["code", "channel", "language", "is_active"]
    search_fields = ["code", "subject", "body"]
    readonly_fields = ["version", "is_active", "created_at", "created_by", "activated_by", "activated_at"]
    fields = ["code", "channel", "language", "subject", "body", "provider_template_code", *readonly_fields]
    list_select_related = ["created_by", "activated_by"]
    actions = ["activate_selected"]
    change_form_template = "admin/cases/messagetemplate/change_form.html"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Versions are kept as the record of what was sent."""
        return False

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form: object, change: bool) -> None:
        """Save through the service, which keeps a version in use unchanged."""
        before = obj.pk
        message_template_save(template=obj, actor=request.user)
        if before and obj.pk != before:
            messages.info(
                request,
                _("That version is in use, so your edits were saved as version %(v)s; it needs activating.")
                % {"v": obj.version},
            )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Offer *Propose activating* on an inactive version to those who may change templates."""
        template = self.get_object(request, object_id)
        may = template is not None and not template.is_active and self.has_change_permission(request, template)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "may_activate": may})

    def get_urls(self) -> list:
        """Add the activation page (before the object pages, whose pattern would take it)."""
        view = self.admin_site.admin_view(self.activate_view)
        return [path("<int:pk>/activate/", view, name="cases_messagetemplate_activate"), *super().get_urls()]

    def activate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm, then propose activating one version; it waits for a second person."""
        template = get_object_or_404(MessageTemplate, pk=pk)
        if not self.has_change_permission(request, template):
            raise PermissionDenied
        problems = []
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            proposals, problems = self._propose(request, [template])
            if proposals:
                return HttpResponseRedirect(reverse("admin:backoffice_changeproposal_change", args=[proposals[0].pk]))
        return self._confirmation(request, [template], problems, action="")

    @admin.action(description=_("Propose activating the selected versions"), permissions=["change"])
    def activate_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Confirm, then propose activating each selected version; say what stops the others."""
        templates = list(queryset.select_related("created_by"))
        if request.POST.get("confirm") == "yes":
            self._propose(request, templates)
            return None
        return self._confirmation(request, templates, [], action="activate_selected")

    def _propose(self, request: HttpRequest, templates: list[MessageTemplate]) -> tuple[list, list[str]]:
        proposals, problems = [], []
        for template in templates:
            try:
                proposal = message_template_activation_propose(template=template, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                problems.append(f"{template}: {text}")
                messages.error(request, problems[-1])
            else:
                proposals.append(proposal)
                messages.success(
                    request,
                    _("Activating %(t)s waits for a second person (change #%(id)s).")
                    % {"t": template, "id": proposal.pk},
                )
        return proposals, problems

    def _confirmation(
        self, request: HttpRequest, templates: list[MessageTemplate], problems: list[str], *, action: str
    ) -> HttpResponse:
        active = {
            (t.code, t.channel, t.language): t
            for t in MessageTemplate.objects.filter(is_active=True, code__in={t.code for t in templates})
        }
        rows = [(template, active.get((template.code, template.channel, template.language))) for template in templates]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Propose activating message templates"),
            "rows": rows,
            "problems": [] if action else problems,
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/messagetemplate/activate.html", context)


def chosen_day(request: HttpRequest) -> datetime.date | None:
    """Return the planned day the message list is narrowed to (``?planned_for=2026-03-01``), or None."""
    try:
        return datetime.date.fromisoformat(request.GET.get("planned_for", ""))
    except ValueError:
        return None


class PlannedDayFilter(admin.SimpleListFilter):
    """Messages planned for one day; the days on offer come from the calendar, not from the table."""

    title = _("planned for")
    parameter_name = "planned_for"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer today and the days before it."""
        today = timezone.localdate()
        days = [today - datetime.timedelta(days=back) for back in range(PICKABLE_DAYS)]
        return [(day.isoformat(), _("today") if day == today else day.isoformat()) for day in days]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep the messages planned for the chosen day."""
        day = chosen_day(request)
        return queryset if day is None else queryset.filter(planned_for=day)


class StopRuleFilter(admin.SimpleListFilter):
    """Messages stopped by one rule; the rules on offer are the known ones, not the table's distinct values."""

    title = _("rule that stopped it")
    parameter_name = "stop_rule"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer every rule that stops messages."""
        return [(rule, rule) for rule in STOP_RULES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep the messages the chosen rule stopped."""
        return queryset.filter(stop_rule=self.value()) if self.value() in STOP_RULES else queryset


@admin.register(Message)
class MessageAdmin(MaskedPersonalData, CaseScoped, FoundByCaseNumber, ReadOnlyAdmin):
    """Every message to a customer, planned, sent or stopped: a record, read-only.

    Each viewer sees the messages of the cases they may see (``CaseScoped``): an agent none of
    another agent's cases, nor the reminders before the due date, which belong to no case yet.
    """

    masked_fields = {"customer_mobile": ("customer__mobile", _("mobile"), mask_mobile)}
    list_display = [
        "when",
        "customer_name",
        "customer_mobile",
        "case_link",
        "contract",
        "channel",
        "kind",
        "status",
        "stop_text",
        "attempts",
        "provider",
    ]
    list_display_links = ["when"]
    list_filter = ["status", "channel", "kind", StopRuleFilter, PlannedDayFilter, ProductPolicyFilter]
    search_fields = ["=credit_line__number"]
    search_help_text = _("Case number or contract number, in full.")
    list_select_related = ["customer", "credit_line"]
    # The newest first, from the primary key: no sort over the table, whatever it holds.
    ordering = ["-id"]
    list_per_page = 50
    fields = [
        "customer_name",
        "customer_mobile",
        "case",
        "credit_line",
        "kind",
        "channel",
        "template_code",
        "template_version",
        "language",
        "stage",
        "planned_for",
        "due_at",
        "status",
        "stop_text",
        "provider",
        "provider_message_id",
        "attempts",
        "sent_at",
        "delivered_at",
        "created_at",
    ]
    readonly_fields = ["customer_name", "stop_text"]
    change_list_template = "admin/cases/message/change_list.html"

    @admin.display(description=_("sent or due"), ordering="id")
    def when(self, obj: Message) -> str:
        """Show when the message left, or when it is or was due."""
        at = timezone.localtime(obj.sent_at or obj.due_at)
        return f"{at:%Y-%m-%d %H:%M}"

    @admin.display(description=_("customer"))
    def customer_name(self, obj: Message) -> str:
        """Show the customer's name."""
        return obj.customer.name

    @admin.display(description=_("case"))
    def case_link(self, obj: Message) -> str:
        """Link to the case page (the number comes from the id: no join)."""
        return case_link_html(obj.case_id) if obj.case_id else "—"

    @admin.display(description=_("contract"))
    def contract(self, obj: Message) -> str:
        """Show the credit line's number."""
        return obj.credit_line.number

    @admin.display(description=_("rule that stopped it, or why not sent"))
    def stop_text(self, obj: Message) -> str:
        """Show the stopping rule with its text, the reason of a cancellation, or the last error."""
        return message_stop_text(obj) or "—"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Put the chosen day's tally above the list, for those who see every case."""
        extra = {}
        if request.user.has_perm("cases.view_all_cases"):
            day = chosen_day(request) or timezone.localdate()
            extra["summary"] = message_day_summary(messages=self.get_queryset(request), day=day)
        return super().changelist_view(request, {**(extra_context or {}), **extra})
