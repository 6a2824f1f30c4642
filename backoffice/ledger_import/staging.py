"""An uploaded ledger file kept on disk between the admin's preview and its confirmation.

The file is kept in a private temporary folder under a random name bound to the person who
uploaded it, never in the session; the confirmation names it by that token, and only its uploader
can import or discard it. Beside it lies the digest of the bytes checked and the kind they were
checked as, so that confirming applies the file without checking it whole a second time. Files left behind (a preview never confirmed) are removed after a day.
"""

import hashlib
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


def stage(data: bytes, *, user: AbstractBaseUser, kind: str) -> str:
    """Keep ``data``, checked without a problem as a file of ``kind``, for ``user``; return the token that names it."""
    STAGING_DIR.mkdir(mode=0o700, exist_ok=True)
    _remove_stale()
    token = secrets.token_urlsafe(24)
    path = _path(token, user)
    path.write_bytes(data)
    _seal(path).write_text(_fingerprint(data, kind))
    return token


def staged(token: str, *, user: AbstractBaseUser) -> bytes | None:
    """Return the file ``user`` staged under ``token``, or None if there is none (or it is another's)."""
    path = _path(token, user)
    if path is None or not path.is_file():
        return None
    return path.read_bytes()


def checked_as(token: str, data: bytes, *, user: AbstractBaseUser, kind: str) -> bool:
    """Return whether ``data`` is, byte for byte, the file staged under ``token`` after its check as ``kind``."""
    path = _path(token, user)
    seal = _seal(path) if path is not None else None
    return seal is not None and seal.is_file() and seal.read_text() == _fingerprint(data, kind)


def unstage(token: str, *, user: AbstractBaseUser) -> None:
    """Remove a staged file once it is imported or abandoned."""
    path = _path(token, user)
    if path is not None:
        path.unlink(missing_ok=True)
        _seal(path).unlink(missing_ok=True)


def _seal(path: Path) -> Path:
    return path.with_name(f"{path.name}.checked")


def _fingerprint(data: bytes, kind: str) -> str:
    return f"{kind}:{hashlib.sha256(data).hexdigest()}"


def _remove_stale() -> None:
    cutoff = time.time() - _KEPT_SECONDS
    for path in STAGING_DIR.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another process removed it first
            continue
