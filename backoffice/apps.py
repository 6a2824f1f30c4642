"""Project app: roles, site-wide admin settings and shared helpers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """Hold the role groups migration and the admin site's titles."""

    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        """Title the admin site as the collections back office; sign in with the second factor; log logins, failures and lockouts; lock down SQLite; register the schedule's kind of change."""
        from django.contrib import admin  # noqa: PLC0415 - AppConfig.ready(): the admin site exists once apps are loaded
        from django.db.backends.signals import connection_created  # noqa: PLC0415 - as above

        from backoffice.kernel import users  # noqa: PLC0415 - as above
        from backoffice.kernel.serving import connect_signals, sqlite_owner_only  # noqa: PLC0415 - as above
        from backoffice.kernel.signin import lockout  # noqa: PLC0415 - as above
        from backoffice.kernel.signin.forms import SignInForm  # noqa: PLC0415 - as above
        from backoffice.schedule.approvals import register_kinds  # noqa: PLC0415 - as above

        connect_signals()
        users.connect_signals()
        lockout.connect_signals()
        connection_created.connect(sqlite_owner_only, dispatch_uid="backoffice.sqlite_owner_only")
        register_kinds()

        admin.site.site_header = _("Collections back office")
        admin.site.site_title = _("Collections back office")
        admin.site.index_title = _("Work")
        admin.site.site_url = None
        admin.site.login_form = SignInForm
