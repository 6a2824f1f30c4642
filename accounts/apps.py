"""The credit ledger: customers, products, credit lines, bills, payments."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Register the ledger app."""

    name = "accounts"
    verbose_name = _("Credit ledger")
