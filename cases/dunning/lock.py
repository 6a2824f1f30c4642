"""One dunning run at a time, with a lock the operating system drops if the run dies.

PostgreSQL: a session-level advisory lock, released when the connection closes.
SQLite: an exclusive ``flock`` on a file beside the database, released when the process exits.
"""

import contextlib
import fcntl
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from django.db import connection
from django.utils.translation import gettext as _

_ADVISORY_KEY = zlib.crc32(b"backoffice.dunning_run")


class DunningRunLocked(Exception):
    """Another dunning run holds the lock."""

    def __init__(self) -> None:
        super().__init__(_("Another dunning run is in progress; this one stopped without changing anything."))


def _lock_file_path() -> Path:
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db() or not name:
        # Each process has its own in-memory database, so each needs its own lock.
        return Path(tempfile.gettempdir()) / f"backoffice-dunning-{os.getpid()}.lock"
    return Path(f"{name}.dunning.lock")


@contextlib.contextmanager
def _postgres_lock() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_KEY])
        if not cursor.fetchone()[0]:
            raise DunningRunLocked()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_KEY])


@contextlib.contextmanager
def _file_lock() -> Iterator[None]:
    path = _lock_file_path()
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DunningRunLocked() from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dunning_lock() -> contextlib.AbstractContextManager[None]:
    """Hold the dunning-run lock for the ``with`` block, or raise ``DunningRunLocked`` at once."""
    return _postgres_lock() if connection.vendor == "postgresql" else _file_lock()
