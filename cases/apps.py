"""Collection cases. The brief calls this app ``collections``; Python's standard library owns that name."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Register the collections app under its admin title, and its kinds of change."""

    name = "cases"
    verbose_name = _("Collections")

    def ready(self) -> None:
        """Register the collections' kinds of change that wait for a second person."""
        from cases.approvals import register_kinds  # noqa: PLC0415 - AppConfig.ready(): models are loaded now

        register_kinds()
