"""Sign-in failures in the admin: supervisors see which username and address pairs are locked out, and unlock them."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backoffice.kernel.admin import DeclaredFiltersOnly
from backoffice.kernel.signin.access import may_unlock
from backoffice.kernel.signin.models import SignInFailure
from backoffice.kernel.signin.services import sign_in_failures_unlock


class LockedFilter(admin.SimpleListFilter):
    """Locked out now, or only counting."""

    title = _("locked out")
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Yes only: the rest are counting towards the limit."""
        return [("yes", _("Yes"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """The pairs refused now."""
        return queryset.locked() if self.value() == "yes" else queryset


@admin.register(SignInFailure)
class SignInFailureAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Failed logins by username and address, read-only; a locked-out pair is unlocked after a confirmation."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "locked_until"]
    list_filter = [LockedFilter]
    search_fields = ["username"]
    ordering = ["-attempt_time"]
    fields = ["username", "ip_address", "failures_since_start", "attempt_time", "path_info", "user_agent"]
    readonly_fields = fields
    actions = ["unlock_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Failures are recorded by signing in only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Read-only: unlocking is the one thing done here."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Unlock instead: it is logged."""
        return False

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        """Supervisors only."""
        return may_unlock(request.user)

    @admin.display(description=_("locked until"))
    def locked_until(self, obj: SignInFailure) -> object:
        """When the lockout ends by itself; a dash when the pair is not locked out."""
        return obj.locked_until() or "—"

    @admin.action(description=_("Unlock the selected sign-ins…"), permissions=["unlock"])
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """After a confirmation, forget the failures: these users may sign in again from these addresses."""
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "failures": list(queryset),
                "title": _("Unlock these sign-ins?"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/signin/unlock_confirmation.html", context)
        count = sign_in_failures_unlock(failures=queryset, actor=request.user)
        message = ngettext("Unlocked %(count)d sign-in.", "Unlocked %(count)d sign-ins.", count) % {"count": count}
        messages.success(request, message)
        return None
