import pytest

from backoffice.kernel.webhooks.services import webhook_subscription_create
from tests.kernel.receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def subscribe(root, receiver, settings):
    """Subscribe the receiver (plain http on 127.0.0.1, as a test allows) and hand it the secret."""
    settings.WEBHOOK_HTTPS_ONLY = False

    def make(name: str = "core", event_types: list[str] | None = None, url: str | None = None):
        subscription, secret = webhook_subscription_create(
            name=name, url=url or receiver.url, event_types=event_types or [], actor=root
        )
        receiver.secret = secret
        return subscription

    return make
