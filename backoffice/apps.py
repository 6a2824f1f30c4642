"""Project app: roles, site-wide admin settings and shared helpers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """Hold the role groups migration and the admin site's titles."""

    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        """Title the admin site as the collections back office."""
        from django.contrib import admin  # noqa: PLC0415 - AppConfig.ready(): the admin site exists once apps are loaded

        admin.site.site_header = _("Collections back office")
        admin.site.site_title = _("Collections back office")
        admin.site.index_title = _("Work")
        admin.site.site_url = None
