"""The reports' own settings in the admin: the morning dashboard's alert thresholds, every change kept."""

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from backoffice.kernel.admin import DeclaredFiltersOnly
from backoffice.reports.threshold_models import DashboardThreshold


@admin.register(DashboardThreshold)
class DashboardThresholdAdmin(DeclaredFiltersOnly, SimpleHistoryAdmin):
    """A threshold per dashboard figure, edited by supervisors; the history says who changed it, when, from what."""

    list_display = ["figure", "limit", "updated_at"]
    fields = ["figure", "limit"]

    def get_readonly_fields(self, request: HttpRequest, obj: DashboardThreshold | None = None) -> list[str]:
        """A threshold watches one figure for good: change its limit, not what it watches."""
        return ["figure"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Thresholds are kept with their history: raise a limit rather than delete it."""
        return False
