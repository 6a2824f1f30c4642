"""Creating API clients, and issuing, rotating and revoking their tokens (superusers only)."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.kernel.api.models import ApiClient, token_hash
from backoffice.kernel.api.scopes import Scope

TOKEN_PREFIX = "bo_"  # noqa: S105 - marks our tokens in logs and secret scanners; not a secret


def _new_token() -> str:
    return f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"


def _refuse_unless_superuser(actor: AbstractBaseUser | None) -> None:
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser manages API clients."))


def _checked_scopes(scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in Scope.values]
    if unknown:
        raise ValidationError({"scopes": _("Unknown scope %(value)r.") % {"value": unknown[0]}})
    return sorted(set(scopes))


def _issue(client: ApiClient) -> str:
    token = _new_token()
    client.token_hash, client.token_prefix, client.rotated_at = token_hash(token), token[:10], timezone.now()
    return token


def api_client_create(*, name: str, scopes: list[str], actor: AbstractBaseUser | None) -> tuple[ApiClient, str]:
    """Create a client with a service user of its own; return it and its token, which is never shown again."""
    _refuse_unless_superuser(actor)
    if not (name or "").strip():
        raise ValidationError({"name": _("A client needs a name.")})
    if ApiClient.objects.filter(name=name.strip()).exists():
        raise ValidationError({"name": _("An API client named %(value)r exists already.") % {"value": name}})
    scopes = _checked_scopes(scopes)
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=f"api-{secrets.token_hex(4)}", password=None)
        client = ApiClient(name=name.strip(), scopes=scopes, user=user)
        token = _issue(client)
        client.save()
    return client, token


def api_client_rotate(*, client: ApiClient, actor: AbstractBaseUser | None) -> str:
    """Issue a new token for the client; the old one stops working at once. Return the new one."""
    _refuse_unless_superuser(actor)
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        token = _issue(locked)
        locked.save(update_fields=["token_hash", "token_prefix", "rotated_at"])
    client.token_prefix, client.rotated_at = locked.token_prefix, locked.rotated_at
    return token


def api_client_revoke(*, client: ApiClient, actor: AbstractBaseUser | None) -> ApiClient:
    """Stop the client: its token is refused from now on (the record and its writes stay)."""
    _refuse_unless_superuser(actor)
    ApiClient.objects.filter(pk=client.pk).update(is_active=False)
    client.is_active = False
    return client
