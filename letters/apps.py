"""Lawyer letters: templates, rendering, approval and dispatch."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LettersConfig(AppConfig):
    """Register the letters app and its kinds of change."""

    name = "letters"
    verbose_name = _("Lawyer letters")

    def ready(self) -> None:
        """Register the letters' kinds of change that wait for a second person."""
        from letters.approvals import register_kinds  # noqa: PLC0415 - AppConfig.ready(): models are loaded now

        register_kinds()
