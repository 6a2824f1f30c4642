"""API clients in the admin (superusers): create one and see its token once; rotate or revoke after a confirmation."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin import DeclaredFiltersOnly
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create, api_client_revoke, api_client_rotate


class ApiClientForm(forms.ModelForm):
    """A client's name and scopes."""

    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ApiClient
        fields = ["name", "scopes"]


@admin.register(ApiClient)
class ApiClientAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """The machines allowed into the API. Only superusers see or change them."""

    form = ApiClientForm
    list_display = ["name", "scope_labels", "is_active", "token_prefix", "rotated_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["token_prefix", "rotated_at", "last_used_at", "is_active", "user"]
    actions = ["rotate_selected", "revoke_selected"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Superusers only."""
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Superusers only."""
        return self.has_module_permission(request)

    has_add_permission = has_change_permission = has_view_permission

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A client that wrote to the ledger stays on record: revoke it instead."""
        return False

    def get_fields(self, request: HttpRequest, obj: ApiClient | None = None) -> list[str]:
        """A new client is named and scoped; an existing one also shows its token's state."""
        return ["name", "scopes"] if obj is None else ["name", "scopes", *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: ApiClient, form: forms.ModelForm, change: bool) -> None:
        """Create through the service (which issues the token); an edit changes the name and scopes only."""
        if change:
            obj.scopes = sorted(set(form.cleaned_data["scopes"]))
            obj.save(update_fields=["name", "scopes"])
            return
        try:
            client, token = api_client_create(
                name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"], actor=request.user
            )
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from exc
        obj.pk, obj.user_id = client.pk, client.user_id
        request.issued_tokens = [(client, token)]

    def response_add(self, request: HttpRequest, obj: ApiClient, post_url_continue: str | None = None) -> HttpResponse:
        """Show the new token, once."""
        return self._show_tokens(request, request.issued_tokens)

    def _show_tokens(self, request: HttpRequest, issued: list[tuple[ApiClient, str]]) -> HttpResponse:
        # Shown in the page only: never in a message, which the session or a cookie would keep.
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "issued": issued}
        context["title"] = _("Copy the token now: it is not shown again")
        return TemplateResponse(request, "admin/backoffice/apiclient/tokens.html", context)

    def _confirm(self, request: HttpRequest, queryset: QuerySet, action: str, title: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "clients": list(queryset),
            "action": action,
            "title": title,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/backoffice/apiclient/confirm.html", context)

    @admin.action(description=_("Issue new tokens for the selected clients…"))
    def rotate_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """After a confirmation, replace each client's token; the old ones stop working at once."""
        if request.POST.get("confirm") != "yes":
            return self._confirm(request, queryset, "rotate_selected", _("Issue new tokens?"))
        issued = [(client, api_client_rotate(client=client, actor=request.user)) for client in queryset]
        return self._show_tokens(request, issued)

    @admin.action(description=_("Revoke the selected clients…"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """After a confirmation, refuse the clients' tokens from now on."""
        if request.POST.get("confirm") != "yes":
            return self._confirm(request, queryset, "revoke_selected", _("Revoke these clients?"))
        for client in queryset:
            api_client_revoke(client=client, actor=request.user)
        messages.success(request, _("Revoked: their tokens are refused from now on."))
        return None
