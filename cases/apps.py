"""Collection cases. The brief calls this app ``collections``; Python's standard library owns that name."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Register the collections app under its admin title."""

    name = "cases"
    verbose_name = _("Collections")
