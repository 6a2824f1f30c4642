"""The ``X-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, as payment platforms sign."""

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - marks our secrets in logs and secret scanners; not a secret


def secret_new() -> str:
    """Return a new signing secret (256 random bits)."""
    return f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the value of the ``X-Signature`` header."""
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def signature_valid(*, secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """Check a header as a subscriber must: the HMAC recomputed, compared in constant time, ``t`` recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, parts["v1"])
