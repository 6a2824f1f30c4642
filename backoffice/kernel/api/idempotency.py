"""``Idempotency-Key`` on every POST: a retried request gets the first answer instead of doing the work twice.

A key belongs to one API client. The first request with a key claims it by inserting an
"in flight" row, committed before the work starts, so that a concurrent request with the same
key finds it (409) instead of doing the work too; when the answer is ready it is stored on the
row. A replay with the same method, path and body gets the stored answer with
``Idempotent-Replayed: true``; the same key with another body is a 422. A request that fails with
a server error gives its key back, so that a retry can proceed. Stored answers carry personal
data: they expire after ``API_IDEMPOTENCY_HOURS`` (lookups ignore expired rows) and
``purge_idempotency_keys`` deletes them.
"""

import datetime
import hashlib
import json
import re

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from backoffice.kernel.api.auth import api_client_of
from backoffice.kernel.api.models import ApiClient

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII without spaces, as a UUID or a reference is
_KEY = re.compile(KEY_PATTERN)


class IdempotencyKey(models.Model):
    """A client's idempotency key, its request's fingerprint and, once answered, the answer."""

    client = models.ForeignKey(
        ApiClient, verbose_name=gettext_lazy("API client"), on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(gettext_lazy("key"), max_length=MAX_KEY_LENGTH)
    request_hash = models.CharField(
        gettext_lazy("request hash"), max_length=64, help_text=gettext_lazy("SHA-256 of method, path and body.")
    )
    status_code = models.PositiveSmallIntegerField(gettext_lazy("status"), null=True, blank=True)
    # The answer as rendered (JSON text): a JSON column would refuse what a JSON answer may carry, such as \u0000.
    response_body = models.TextField(gettext_lazy("response body"), blank=True)
    created_at = models.DateTimeField(gettext_lazy("created"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(gettext_lazy("completed"), null=True, blank=True)

    class Meta:
        app_label = "backoffice"
        verbose_name = gettext_lazy("idempotency key")
        verbose_name_plural = gettext_lazy("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_unique_per_client")]

    def __str__(self) -> str:
        return self.key


class KeyRefused(exceptions.APIException):
    """The ``Idempotency-Key`` header refuses the request; the error names the header and the key sent."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class KeyInvalid(KeyRefused):
    """The key is empty, too long or not printable ASCII."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class KeyInFlight(KeyRefused):
    """The key's first request is still being processed."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_flight"


class KeyReused(KeyRefused):
    """The key was used for another request (another method, path or body)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


class _Replayed(Exception):
    # Not an error: the way out of ``initial`` with the stored answer, which ``handle_exception`` returns.
    def __init__(self, response: Response) -> None:
        self.response = response


def _expired_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)


def request_fingerprint(request: Request) -> str:
    """Return the SHA-256 of the request's method, path (with its query) and body."""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request._request.get_full_path().encode(), request._request.body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _checked_key(key: str) -> str:
    if not _KEY.match(key):
        message = _("The Idempotency-Key header takes 1 to %(max)d printable ASCII characters, without spaces.")
        raise KeyInvalid(key[:MAX_KEY_LENGTH], message % {"max": MAX_KEY_LENGTH})
    return key


def idempotency_claim(*, client: ApiClient, key: str, fingerprint: str) -> IdempotencyKey | Response:
    """Claim ``key`` for a new request (the row is committed at once), or return the stored answer to replay.

    Raise ``KeyInFlight`` while the key's first request is in flight, and ``KeyReused`` when the key
    was used for another request.
    """
    # Expired rows are ignored: one in the way is deleted, and the key is claimed afresh.
    IdempotencyKey.objects.filter(client=client, key=key, created_at__lt=_expired_before()).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(client=client, key=key, request_hash=fingerprint)
    except IntegrityError:
        pass
    found = IdempotencyKey.objects.filter(client=client, key=key).first()
    if found is not None and found.request_hash != fingerprint:
        message = _("This Idempotency-Key was used for another request: send a new key for a new request.")
        raise KeyReused(key, message)
    if found is None or found.completed_at is None:
        raise KeyInFlight(key, _("A request with this Idempotency-Key is still being processed: retry later."))
    body = json.loads(found.response_body) if found.response_body else None
    return Response(body, status=found.status_code, headers={REPLAYED_HEADER: "true"})


def idempotency_complete(*, claim: IdempotencyKey, response: Response) -> None:
    """Store the answer on the claimed key; a server error gives the key back instead, so a retry can proceed.

    The answer is stored as rendered for its caller (a response that went through ``finalize_response``),
    so that a replay gives exactly what the first request got.
    """
    if response.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        idempotency_release(claim=claim)
        return
    if getattr(response, "accepted_renderer", None) is not None:
        body = response.render().content.decode()
    else:
        body = JSONRenderer().render(response.data).decode() if response.data is not None else ""
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        status_code=response.status_code, response_body=body, completed_at=timezone.now()
    )


def idempotency_release(*, claim: IdempotencyKey) -> None:
    """Give the key back: its request failed, so a retry with it does the work."""
    IdempotencyKey.objects.filter(pk=claim.pk).delete()


def idempotency_keys_expired() -> models.QuerySet:
    """Return the keys older than ``API_IDEMPOTENCY_HOURS``, whose stored answers are no longer kept."""
    return IdempotencyKey.objects.filter(created_at__lt=_expired_before())


def idempotency_keys_purge() -> int:
    """Delete the expired keys and their stored answers; return how many."""
    deleted, _by_model = idempotency_keys_expired().delete()
    return deleted


class IdempotentPost:
    """A view mixin: every POST may carry ``Idempotency-Key`` (API clients; people do not write through the API).

    The key is claimed after authentication, permissions and throttling, and before the handler
    runs — outside any transaction of the handler's, so the claim is committed first.
    """

    _idempotency_claim: IdempotencyKey | None = None

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        """Check the request as usual, then claim its key or find the stored answer."""
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        client = api_client_of(request)
        if request.method != "POST" or key is None or client is None:
            return
        claimed = idempotency_claim(client=client, key=_checked_key(key), fingerprint=request_fingerprint(request))
        if isinstance(claimed, Response):
            raise _Replayed(claimed)
        self._idempotency_claim = claimed

    def handle_exception(self, exc: Exception) -> Response:
        """Answer a replay with the stored answer; give the key back when the request fails unhandled."""
        if isinstance(exc, _Replayed):
            return exc.response
        if isinstance(exc, KeyRefused):
            response = super().handle_exception(exc)
            response.data = {
                "errors": [
                    {
                        "index": None,
                        "field": HEADER,
                        "value": exc.key,
                        "code": exc.default_code,
                        "message": str(exc.detail),
                    }
                ]
            }
            return response
        return super().handle_exception(exc)

    def dispatch(self, request: object, *args: object, **kwargs: object) -> Response:
        """Handle the request; one that ends in an unhandled exception (even storing its answer) frees its key."""
        try:
            return super().dispatch(request, *args, **kwargs)
        except BaseException:
            if self._idempotency_claim is not None:
                idempotency_release(claim=self._idempotency_claim)
                self._idempotency_claim = None
            raise

    def finalize_response(self, request: Request, response: Response, *args: object, **kwargs: object) -> Response:
        """Store the answer on the claimed key."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotency_claim is not None:
            idempotency_complete(claim=self._idempotency_claim, response=response)
            self._idempotency_claim = None
        return response
