"""How a request is let into the API: a client's bearer token, or a person's admin session; scopes; throttling."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from backoffice.kernel.api.models import ApiClient, token_hash
from backoffice.kernel.api.scopes import Scope

# A client's last-used time is written at most this often, not on every request.
_LAST_USED_EVERY_SECONDS = 60


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` of an active API client; the request acts as the client's service user."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[object, ApiClient] | None:
        """Return (service user, client) for a valid token, None when no bearer token is given."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            address_throttle_check(request)
            raise exceptions.AuthenticationFailed(_("The Authorization header takes one token: Bearer <token>."))
        client = (
            ApiClient.objects.select_related("user")
            .filter(token_hash=token_hash(parts[1].decode(errors="replace")))
            .first()
        )
        if client is None or not client.is_active or not client.user.is_active:
            address_throttle_check(request)
            raise exceptions.AuthenticationFailed(_("The token is unknown or revoked."))
        self._touch(client)
        return client.user, client

    def authenticate_header(self, request: Request) -> str:
        """Ask for a bearer token (a 401, not a 403, without one)."""
        return self.keyword

    @staticmethod
    def _touch(client: ApiClient) -> None:
        now = timezone.now()
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > _LAST_USED_EVERY_SECONDS:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)


def api_client_of(request: Request) -> ApiClient | None:
    """Return the API client the request came from, or None for a person's session."""
    return request.auth if isinstance(request.auth, ApiClient) else None


class ScopeOrModelPermission(BasePermission):
    """A client needs the view's scope for the method; a person needs the model permission, as in the admin.

    Views declare ``read_scope`` and ``write_scope``; a view without a write scope is read-only. A view
    that reads no one model's rows names the permission people need instead (``view_permission``).
    """

    message = _("Your credentials do not allow this request.")

    def has_permission(self, request: Request, view: object) -> bool:
        """Check the client's scope, or the person's model permissions."""
        if not request.user.is_authenticated:
            address_throttle_check(request)
        if request.method not in view.allowed_methods:
            return request.user.is_authenticated  # the view answers 405, naming the methods it takes
        client = api_client_of(request)
        safe = request.method in ("GET", "HEAD", "OPTIONS")
        scope = getattr(view, "read_scope" if safe else "write_scope", None)
        if client is not None:
            return scope is not None and client.has_scope(scope)
        if not safe or scope is None:
            return False  # people write through the admin, not the API
        return _may_view(request, view)


def _may_view(request: Request, view: object) -> bool:
    # As in the admin: a GET needs the model's view permission; which rows, the admin's own queryset decides.
    permission = getattr(view, "view_permission", None)
    if permission is None:
        meta = view.queryset.model._meta
        permission = f"{meta.app_label}.view_{meta.model_name}"
    return request.user.is_authenticated and request.user.has_perm(permission)


def may_see_full_numbers(request: Request) -> bool:
    """Return whether the response may carry full ID and mobile numbers: only to a client with the scope.

    The lending system sent the numbers and holds them; a person reads them masked here as in the
    admin, whatever their role, and reveals one on the case page, with a reason.
    """
    client = api_client_of(request)
    return client is not None and client.has_scope(Scope.PERSONAL_DATA_READ)


class AddressRateThrottle(SimpleRateThrottle):
    """Throttle requests without valid credentials per client address, at ``API_ANONYMOUS_THROTTLE_RATE``.

    Checked before the 401 is given (a bad token, or none), so that tokens cannot be guessed at speed.
    """

    scope = "anonymous"

    def get_cache_key(self, request: Request, view: object) -> str:
        """Key by the client's address (``NUM_PROXIES`` of ``REST_FRAMEWORK`` says which proxies to trust)."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def address_throttle_check(request: Request) -> None:
    """Raise ``Throttled`` when the request's address has sent too many requests without valid credentials."""
    throttle = AddressRateThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(throttle.wait())


class ClientRateThrottle(SimpleRateThrottle):
    """Throttle per API client (people: per user), at ``API_THROTTLE_RATE``."""

    scope = "client"

    def get_cache_key(self, request: Request, view: object) -> str | None:
        """Key by the client, else by the signed-in user."""
        client = api_client_of(request)
        ident = (
            f"client-{client.pk}" if client else (f"user-{request.user.pk}" if request.user.is_authenticated else None)
        )
        return None if ident is None else self.cache_format % {"scope": self.scope, "ident": ident}
