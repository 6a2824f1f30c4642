"""Webhooks in the admin (superusers): subscribe a URL and see its secret once, rotate it, watch and redeliver."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin import DeclaredFiltersOnly, ReadOnlyAdmin, RecordInline
from backoffice.kernel.events import EventType
from backoffice.kernel.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from backoffice.kernel.webhooks.services import (
    webhook_deliveries_redeliver,
    webhook_subscription_create,
    webhook_subscription_rotate,
    webhook_subscription_update,
    webhook_url_check,
)

SHOWN = 100  # deliveries listed on the redelivery confirmation; the action applies to all selected


class SuperusersOnly:
    """Only superusers see or use these screens."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Superusers only."""
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Superusers only."""
        return self.has_module_permission(request)


class WebhookSubscriptionForm(forms.ModelForm):
    """A subscription's name, URL, event types and active flag, checked by the services' own rules."""

    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every event, including types added later."),
    )
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("Where events are POSTed: https in production, at a public address unless the settings allow it."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "is_active"]

    def clean_url(self) -> str:
        """Refuse, with the reason, a URL events may not be sent to."""
        try:
            return webhook_url_check(self.cleaned_data["url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SuperusersOnly, DeclaredFiltersOnly, admin.ModelAdmin):
    """The lender's URLs that hear events."""

    form = WebhookSubscriptionForm
    list_display = ["name", "url", "event_type_labels", "is_active", "secret_prefix", "rotated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret_prefix", "rotated_at", "created_at"]
    actions = ["rotate_selected"]

    has_add_permission = has_change_permission = SuperusersOnly.has_view_permission

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A subscription keeps its deliveries' record: make it inactive instead."""
        return False

    def get_fields(self, request: HttpRequest, obj: WebhookSubscription | None = None) -> list[str]:
        """A new subscription is named, addressed and typed; an existing one also shows its secret's state."""
        fields = ["name", "url", "event_types", "is_active"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: forms.ModelForm, change: bool) -> None:
        """Create (issuing the secret) or change through the services."""
        data = form.cleaned_data
        if change:
            webhook_subscription_update(
                subscription=obj,
                name=data["name"],
                url=data["url"],
                event_types=data["event_types"],
                is_active=data["is_active"],
                actor=request.user,
            )
            return
        subscription, secret = webhook_subscription_create(
            name=data["name"],
            url=data["url"],
            event_types=data["event_types"],
            is_active=data["is_active"],
            actor=request.user,
        )
        obj.pk = subscription.pk
        request.issued_secrets = [(subscription, secret)]

    def response_add(
        self, request: HttpRequest, obj: WebhookSubscription, post_url_continue: str | None = None
    ) -> HttpResponse:
        """Show the new secret, once."""
        return self._show_secrets(request, request.issued_secrets)

    def _show_secrets(self, request: HttpRequest, issued: list[tuple[WebhookSubscription, str]]) -> HttpResponse:
        # In the page only: never in a message, which the session or a cookie would keep.
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "issued": issued}
        context["title"] = _("Copy the secret now: it is not shown again")
        return TemplateResponse(request, "admin/backoffice/webhooksubscription/secrets.html", context)

    @admin.action(description=_("Issue new secrets for the selected subscriptions…"))
    def rotate_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """After a confirmation, replace each subscription's secret; deliveries are signed with the new one at once."""
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "subscriptions": list(queryset),
                "title": _("Issue new secrets?"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/backoffice/webhooksubscription/confirm.html", context)
        issued = [(sub, webhook_subscription_rotate(subscription=sub, actor=request.user)) for sub in queryset]
        return self._show_secrets(request, issued)


class WebhookAttemptInline(RecordInline):
    """Every try, newest last."""

    model = WebhookAttempt
    fields = ["started_at", "duration_ms", "status_code", "error", "response_excerpt", "runner"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperusersOnly, ReadOnlyAdmin):
    """Each event sent to each subscription: where it stands, its attempts; redeliver dead or delivered ones."""

    list_display = [
        "pk",
        "subscription",
        "event_type",
        "position",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
    ]
    list_filter = ["status", "subscription"]
    list_select_related = ["subscription", "event"]
    fields = [
        "subscription",
        "event",
        "position",
        "status",
        "attempts",
        "first_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "created_at",
    ]
    readonly_fields = fields
    raw_id_fields = ["event"]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver_selected"]

    @admin.display(description=_("event type"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        """The event's type."""
        return obj.event.type

    @admin.action(description=_("Redeliver the selected deliveries…"))
    def redeliver_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """After a confirmation, send the selected delivered or dead deliveries again; pending ones are left as they are."""
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "deliveries": list(queryset.select_related("subscription", "event")[:SHOWN]),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "title": _("Redeliver these events?"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/backoffice/webhookdelivery/confirm.html", context)
        count = webhook_deliveries_redeliver(deliveries=queryset, actor=request.user)
        messages.success(
            request,
            _("%(count)d deliveries will be sent again, each after any earlier one of its case.") % {"count": count},
        )
        return None
