"""The client's address as the proxies in front of the back office saw it.

Behind ``TRUSTED_PROXY_COUNT`` proxies, each appending the address it was reached from to
``X-Forwarded-For``, the client is the N-th address from the right: anything further left was sent by
the client itself and proves nothing. With no proxy (the default), it is the connection's own address.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """Return the client's address: the connection's, or the one the outermost trusted proxy saw."""
    count = settings.TRUSTED_PROXY_COUNT
    connection = request.META.get("REMOTE_ADDR", "")
    if count == 0:
        return connection
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < count or not _is_address(forwarded[-count]):
        # Not through every proxy (a request made from inside): the connection's own address.
        return connection
    return forwarded[-count]


def _is_address(text: str) -> bool:
    """Tell whether a piece of X-Forwarded-For is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
