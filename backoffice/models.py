"""The project app's models, kept in the kernel where every app can reach them: the API clients and their
idempotency keys (with the API's authentication), the outbox of events, and the webhooks that push them out."""

from backoffice.kernel.api.idempotency import IdempotencyKey
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.events import Event
from backoffice.kernel.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = ["ApiClient", "Event", "IdempotencyKey", "WebhookAttempt", "WebhookDelivery", "WebhookSubscription"]
