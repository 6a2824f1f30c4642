"""The scopes an API client may hold, named exactly as the lending system codes against them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What an API client may do."""

    LEDGER_WRITE = "ledger:write", _("Write the ledger (customers, lines, bills, payments)")
    LEDGER_READ = "ledger:read", _("Read the ledger")
    CASES_READ = "cases:read", _("Read cases")
    CONTACTS_WRITE = "contacts:write", _("Send contacts (telephony)")
    LETTERS_READ = "letters:read", _("Read letters")
    PERSONAL_DATA_READ = "personal-data:read", _("See full ID and mobile numbers")
    EVENTS_READ = "events:read", _("Read events")
