"""What serving in production needs around every request: the load balancer's probe, one JSON log line a
request with its id, the sessions' idle clock, and security events logged without personal data.

Every log line here names people by their user id and requests by their URL pattern (never the path as
typed, which can carry a secret or a letter number), and never carries a query string or a body.
"""

import hashlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.mail import mail_admins
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

requests_log = logging.getLogger("backoffice.requests")
security_log = logging.getLogger("backoffice.security")

HEALTH_PATH = "/healthz"
# A request id the proxy sent is kept if it looks like one; anything else is replaced by our own.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_TOUCHED = "_idle_touched"


def health() -> tuple[bool, dict[str, str]]:
    """Check the database and, when one is configured, the broker; return whether all is well and each part's state."""
    parts = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        parts["database"] = "ok"
    except Exception:  # any failure to reach the database is "down" to a probe; the reason goes to the log
        security_log.exception("health check: the database did not answer")
        parts["database"] = "down"
    if settings.CELERY_BROKER_URL:
        from backoffice.celery import app  # noqa: PLC0415 - the broker's client only when there is a broker

        try:
            with app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, timeout=2)
            parts["broker"] = "ok"
        except Exception:  # the broker's client raises transport-specific errors
            requests_log.warning("health check: the broker did not answer")
            parts["broker"] = "down"
    return all(state == "ok" for state in parts.values()), parts


class HealthCheckMiddleware:
    """Answer ``GET /healthz`` in plain text before anything else runs: no login, no host check, no redirect."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Keep the rest of the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer the probe, or pass the request on."""
        if request.path_info.rstrip("/") != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        healthy, parts = health()
        body = "".join(f"{name} {state}\n" for name, state in parts.items())
        response = HttpResponse(body, status=200 if healthy else 503, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return response


class BodyCeilingMiddleware:
    """Refuse, before it is read, a body larger than ``REQUEST_MAX_BYTES`` (413, naming the ceiling).

    Django spools an upload to a temporary file before any form sees it, so a screen's own ceiling (a
    ledger file, a contact CSV) comes after the disk was filled; this one comes first. The API keeps its
    own ceiling and error format (``API_MAX_REQUEST_BYTES``). A body sent without a length (chunked) is
    left to those ceilings and to the proxy's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Keep the rest of the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer 413 to a body over the ceiling, or pass the request on."""
        if request.path_info.startswith("/api/"):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        ceiling = settings.REQUEST_MAX_BYTES
        if length > ceiling:
            message = _("The upload is %(size)s MB; the most this back office takes at once is %(most)s MB.") % {
                "size": f"{length / 2**20:.1f}",
                "most": f"{ceiling / 2**20:.0f}",
            }
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def request_id_of(request: HttpRequest) -> str:
    """Return the id this request is logged under: the proxy's ``X-Request-ID`` if well formed, else a new one."""
    sent = request.headers.get("X-Request-ID", "")
    return sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


class RequestLogMiddleware:
    """Log one JSON line a request (id, method, URL pattern, user id, status, milliseconds); keep the idle clock."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Keep the rest of the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Time the request, answer it with its id, log it."""
        started = time.perf_counter()
        request.request_id = request_id_of(request)
        response = self.get_response(request)
        _touch_session(request)
        response["X-Request-ID"] = request.request_id
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        fields = {
            "request_id": request.request_id,
            "method": request.method,
            "route": match.route if match is not None else None,
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        requests_log.info("request", extra=fields)
        if response.status_code == 403 and fields["user_id"] is not None:
            security_log.warning("permission refused", extra={"event": "permission_refused", **fields})
        return response


def _touch_session(request: HttpRequest) -> None:
    """Push a signed-in session's idle clock on, at most once every ``SESSION_TOUCH_SECONDS``.

    The session's expiry is ``SESSION_COOKIE_AGE`` after it was last saved; saving it on every request
    would cost a write a page, so it is saved when its last touch is older than the touch interval.
    """
    session = getattr(request, "session", None)
    # Only a person signed in by this session: an API client's bearer token never starts one.
    if session is None or session.session_key is None or session.modified or SESSION_KEY not in session:
        return
    now = int(timezone.now().timestamp())
    if now - session.get(_TOUCHED, 0) >= settings.SESSION_TOUCH_SECONDS:
        session[_TOUCHED] = now
        session.save()


def _username_digest(username: object) -> str:
    """A short digest of a username as typed: enough to see one name tried many times, not the name."""
    key = settings.SECRET_KEY.encode()
    return hashlib.blake2s(str(username).encode(), key=key[:32], digest_size=6).hexdigest()


def _logged_in(sender: object, request: HttpRequest, user: object, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[_TOUCHED] = int(timezone.now().timestamp())
    security_log.info("login", extra={"event": "login", "user_id": user.pk})


def _logged_out(sender: object, request: HttpRequest, user: object, **kwargs: object) -> None:
    security_log.info("logout", extra={"event": "logout", "user_id": getattr(user, "pk", None)})


def _login_failed(sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs: object) -> None:
    extra = {"event": "login_failed", "username_digest": _username_digest(credentials.get("username", ""))}
    security_log.warning("login failed", extra=extra)


def security_event(event: str, **fields: object) -> None:
    """Log a security event (a reveal, an approval, a lockout…) by ids only."""
    security_log.info(event.replace("_", " "), extra={"event": event, **fields})


def security_alert(event: str, **fields: object) -> None:
    """Log a security event someone must look at, and mail it to the security contacts (``ADMINS``), by ids only.

    The one way an alert is raised (a change of who may do what, too many reveals). The line is logged
    at once, flagged ``alert``; the mail leaves once the change it reports is committed, so nothing is
    mailed for a change that rolled back, and a mail server that fails never fails the change.
    """
    security_log.warning(event.replace("_", " "), extra={"event": event, "alert": True, **fields})
    transaction.on_commit(lambda: _alert_mailed(event, fields))


def _alert_mailed(event: str, fields: dict) -> None:
    if not settings.ADMINS:
        return
    details = "\n".join(f"{name}: {value}" for name, value in fields.items())
    mail_admins(f"Security: {event.replace('_', ' ')}", f"{event}\n{details}\n", fail_silently=True)


def connect_signals() -> None:
    """Log logins, logouts and failed logins (called once, when the apps are ready)."""
    user_logged_in.connect(_logged_in, dispatch_uid="backoffice.security.login")
    user_logged_out.connect(_logged_out, dispatch_uid="backoffice.security.logout")
    user_login_failed.connect(_login_failed, dispatch_uid="backoffice.security.login_failed")


def sqlite_owner_only(sender: object, connection: object, **kwargs: object) -> None:
    """Make a SQLite database file (and its journal files) readable and writable by its owner only."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for path in (name, f"{name}-wal", f"{name}-shm"):
        if os.path.exists(path) and os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
