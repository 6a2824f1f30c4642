"""The project app's models: the API clients and their idempotency keys (kept in the kernel, where the API's
authentication lives)."""

from backoffice.kernel.api.idempotency import IdempotencyKey
from backoffice.kernel.api.models import ApiClient

__all__ = ["ApiClient", "IdempotencyKey"]
