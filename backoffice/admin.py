"""The project app's screens: API clients."""

from backoffice.kernel.api import admin  # noqa: F401 - registers the API clients' admin
