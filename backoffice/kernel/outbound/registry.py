"""Which provider sends each channel, as the settings say."""

from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from backoffice.kernel.outbound.message import Accepted, Outgoing


class Provider(Protocol):
    """What every provider offers."""

    name: str

    def send(self, outgoing: Outgoing) -> Accepted:
        """Hand the message over; return what the provider answered or raise ``SendFailed``."""


def provider_for(channel: str) -> Provider:
    """Return the provider configured for ``channel``; refuse a channel with none."""
    path = settings.OUTBOUND_PROVIDERS.get(channel)
    if not path:
        raise ImproperlyConfigured(f"OUTBOUND_PROVIDERS has no provider for the channel {channel!r}.")
    return import_string(path)()


def send(outgoing: Outgoing) -> Accepted:
    """Send ``outgoing`` through its channel's provider."""
    return provider_for(outgoing.channel).send(outgoing)
