"""The address a request came from, as the proxy in front of the back office tells it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _an_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """Return the client's address: ``TRUSTED_PROXY_HOPS`` entries from the right of ``X-Forwarded-For``.

    Each proxy appends the address it was reached from, so only the entries our own proxies wrote are
    believed; those to their left are whatever the client sent. Without the header (a request to the
    process itself) or with a malformed entry, the connection's own address.
    """
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if hops and forwarded:
        address = _an_address(forwarded[-min(hops, len(forwarded))])
        if address:
            return address
    return request.META.get("REMOTE_ADDR", "")
