"""The project app's models, kept in the kernel where every app can reach them: the API clients and their
idempotency keys (with the API's authentication), and the outbox of events."""

from backoffice.kernel.api.idempotency import IdempotencyKey
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.events import Event

__all__ = ["ApiClient", "Event", "IdempotencyKey"]
