"""API clients: the lender's core system and telephony, each with its scopes and a service user of its own."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.api.scopes import Scope


def token_hash(token: str) -> str:
    """Return how a token is stored: its SHA-256 (tokens are long and random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(models.Model):
    """A machine allowed into the API. Its token is shown once and stored only as a hash."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    scopes = models.JSONField(_("scopes"), default=list, help_text=_("What the client may do."))
    is_active = models.BooleanField(_("active"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service user"),
        on_delete=models.PROTECT,
        related_name="api_client",
        editable=False,
        help_text=_("The actor of every write the client makes."),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(
        _("token starts with"), max_length=12, editable=False, help_text=_("To tell tokens apart; not a secret.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    rotated_at = models.DateTimeField(_("token issued"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        app_label = "backoffice"
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        """Return whether the client holds ``scope`` and is active."""
        return self.is_active and scope in self.scopes

    @property
    def scope_labels(self) -> str:
        """Return the scopes, comma-separated, for lists."""
        return ", ".join(str(Scope(scope).value) for scope in self.scopes if scope in Scope.values)
