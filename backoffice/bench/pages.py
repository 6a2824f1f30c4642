"""Opening the admin's pages in the benchmark's own process, as its test client does."""

import contextlib
import logging
from collections.abc import Iterator

from django.conf import settings
from django.test import override_settings


@contextlib.contextmanager
def pages_in_process() -> Iterator[None]:
    """Serve pages here: static files named as the apps hold them (nothing is collected), no log line a page.

    With DEBUG off the static files' names come from the manifest ``collectstatic`` writes for ``make serve``;
    a benchmark on a fresh clone has none, and the pages' timings do not depend on which name is printed.
    """
    uncollected = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    requests_log = logging.getLogger("backoffice.requests")
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)
    try:
        with override_settings(STORAGES={**settings.STORAGES, "staticfiles": uncollected}):
            yield
    finally:
        requests_log.setLevel(level)
