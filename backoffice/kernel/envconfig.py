"""Typed readers for settings that come from the environment.

Each reader fails fast with ``ImproperlyConfigured`` naming the variable and the
value it could not accept, so a typo stops start-up instead of silently turning
into a default.
"""

import datetime
import ipaddress
import os
import zoneinfo
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable's value, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a boolean; accept 1/0, true/false, yes/no, on/off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true/false, 1/0, yes/no or on/off.")


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list, blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list of IPv4 or IPv6 networks in CIDR form (an address alone is its /32 or /128)."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(str(ipaddress.ip_network(item)))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network such as 10.20.0.0/16 ({exc}).") from None
    return networks


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 65535) -> int:
    """Return the variable as an integer within ``[minimum, maximum]``."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {minimum} and {maximum}.")
    return value


def env_clock(name: str, default: str) -> datetime.time:
    """Return a time of day written ``HH:MM``."""
    value = os.environ.get(name, default)
    try:
        return datetime.datetime.strptime(value, "%H:%M").time()
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a time of day written HH:MM (e.g. 06:00).") from None


def env_time_zone(name: str, default: str) -> str:
    """Return an IANA time zone name that this machine knows."""
    value = os.environ.get(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not a known time zone (e.g. Asia/Shanghai).") from None
    return value


def env_choice(name: str, default: str, choices: list[str]) -> str:
    """Return the variable if it is one of ``choices``."""
    value = os.environ.get(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_url(name: str, default: str, *, schemes: tuple[str, ...] = ("https", "http")) -> str:
    """Return an absolute URL with one of ``schemes``, a host, and no credentials in it."""
    value = os.environ.get(name, default)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a URL.") from None
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a URL such as {schemes[0]}://host/path (schemes: {', '.join(schemes)}; "
            "credentials belong in their own variables)."
        )
    return value


def env_require(names: list[str], *, because: str) -> None:
    """Stop start-up if any of ``names`` is unset or blank, naming every missing one and why it is needed."""
    missing = [name for name in names if not (os.environ.get(name) or "").strip()]
    if missing:
        raise ImproperlyConfigured(f"{', '.join(missing)} must be set {because}.")


def env_secret(name: str, *, minimum_length: int) -> str:
    """Return a secret that may appear in a URL: blank, or at least ``minimum_length`` of ``A-Za-z0-9-_``."""
    value = (os.environ.get(name) or "").strip()
    if value and (len(value) < minimum_length or not all(c.isascii() and (c.isalnum() or c in "-_") for c in value)):
        raise ImproperlyConfigured(
            f"{name} must be at least {minimum_length} characters of A-Z, a-z, 0-9, - and _ "
            '(python -c "import secrets; print(secrets.token_urlsafe(32))").'
        )
    return value
