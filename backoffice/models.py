"""The project app's models: the API clients (kept in the kernel, where the API's authentication lives)."""

from backoffice.kernel.api.models import ApiClient

__all__ = ["ApiClient"]
