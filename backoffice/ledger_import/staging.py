"""An uploaded ledger file kept on disk between the admin's preview and its confirmation.

The file is kept in a private temporary folder under a random name bound to the person who
uploaded it, never in the session; the confirmation names it by that token, and only its uploader
can import or discard it. Files left behind (a preview never confirmed) are removed after a day.
"""

import re
import secrets
import tempfile
import time
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser

STAGING_DIR = Path(tempfile.gettempdir()) / "backoffice-ledger-imports"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_KEPT_SECONDS = 24 * 60 * 60


def _path(token: str, user: AbstractBaseUser) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    return STAGING_DIR / f"{user.pk}-{token}"


def stage(data: bytes, *, user: AbstractBaseUser) -> str:
    """Keep ``data`` for ``user``; return the token that names it."""
    STAGING_DIR.mkdir(mode=0o700, exist_ok=True)
    _remove_stale()
    token = secrets.token_urlsafe(24)
    _path(token, user).write_bytes(data)
    return token


def staged(token: str, *, user: AbstractBaseUser) -> bytes | None:
    """Return the file ``user`` staged under ``token``, or None if there is none (or it is another's)."""
    path = _path(token, user)
    if path is None or not path.is_file():
        return None
    return path.read_bytes()


def unstage(token: str, *, user: AbstractBaseUser) -> None:
    """Remove a staged file once it is imported or abandoned."""
    path = _path(token, user)
    if path is not None:
        path.unlink(missing_ok=True)


def _remove_stale() -> None:
    cutoff = time.time() - _KEPT_SECONDS
    for path in STAGING_DIR.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another process removed it first
            continue
