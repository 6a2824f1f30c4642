"""Where events may be sent: public addresses only, unless in a network that ``WEBHOOK_ALLOWED_NETWORKS`` lists.

Deliveries run inside our network, so a subscriber's URL must not reach what only we can reach: this
machine (loopback), the private networks, the link-local one where cloud metadata services answer,
and the multicast, reserved and unspecified addresses. A name is judged by every address it resolves
to, and the delivery connects to those very addresses: a second lookup could answer otherwise.
"""

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import SplitResult

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The first that applies names the reason: 127.0.0.1 is private too, but "loopback" says more. The last
# catches the rest of what is not globally reachable (100.64.0.0/10, shared by carriers' NAT, among others).
KINDS: list[tuple[Callable[[Address], bool], Promise]] = [
    (lambda a: a.is_unspecified, gettext_lazy("an unspecified address")),
    (lambda a: a.is_loopback, gettext_lazy("a loopback address")),
    (lambda a: a.is_link_local, gettext_lazy("a link-local address")),
    (lambda a: a.is_multicast, gettext_lazy("a multicast address")),
    (lambda a: a.is_reserved, gettext_lazy("a reserved address")),
    (lambda a: a.is_private or getattr(a, "is_site_local", False), gettext_lazy("a private address")),
    (lambda a: not a.is_global, gettext_lazy("a non-public address")),
]


class DestinationRefused(Exception):
    """A host that is, or resolves to, an address events may not be sent to; the message says which and why."""


def allowed_networks() -> list[Network]:
    """Return the networks delivered to although not public (``WEBHOOK_ALLOWED_NETWORKS``)."""
    return [ipaddress.ip_network(network) for network in settings.WEBHOOK_ALLOWED_NETWORKS]


def _carried_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    # ::ffff:10.0.0.5 is 10.0.0.5 on a dual-stack socket; 2002:0a00:0005:: is 10.0.0.5's 6to4 address.
    if address.version == 6:
        return address.ipv4_mapped or address.sixtofour
    return None


def address_refusal(address: Address, *, allowed: list[Network]) -> Promise | None:
    """Return what kind of forbidden address ``address`` is, or ``None`` if events may go to it."""
    judged = _carried_ipv4(address) or address
    if any(address in network or judged in network for network in allowed):
        return None
    return next((kind for applies, kind in KINDS if applies(judged)), None)


def destination_port(parts: SplitResult) -> int:
    """Return the URL's port, or its scheme's own; raise ``ValueError`` for one that is not a number from 0 to 65535."""
    return parts.port if parts.port is not None else {"https": 443, "http": 80}.get(parts.scheme, 0)


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _looked_up(host: str, port: int) -> list[Address]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(ipaddress.ip_address(sockaddr[0]) for *_rest, sockaddr in found))


def _shown(address: Address) -> str:
    carried = _carried_ipv4(address)
    return f"{address} ({carried})" if carried else str(address)


def destination_addresses(host: str, port: int) -> list[Address]:
    """Resolve ``host`` once and return its addresses; refuse it if any of them is forbidden.

    Raise ``DestinationRefused`` naming the address and why, ``OSError`` if the name does not resolve, or
    ``UnicodeError`` if it cannot be written for DNS (IDNA).
    """
    literal = _literal(host)
    addresses, allowed = [literal] if literal else _looked_up(host, port), allowed_networks()
    for address in addresses:
        kind = address_refusal(address, allowed=allowed)
        if kind is None:
            continue
        if literal:
            raise DestinationRefused(
                _("destination %(address)s is %(kind)s") % {"address": _shown(address), "kind": kind}
            )
        raise DestinationRefused(
            _("destination %(host)s resolves to %(address)s, %(kind)s")
            % {"host": host, "address": _shown(address), "kind": kind}
        )
    return addresses
