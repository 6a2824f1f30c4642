"""Lawyer letters: templates, rendering, approval and dispatch."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LettersConfig(AppConfig):
    """Register the letters app."""

    name = "letters"
    verbose_name = _("Lawyer letters")
