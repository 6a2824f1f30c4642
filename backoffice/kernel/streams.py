"""Run independent units of database work on several connections at once, each in its own transaction.

A bulk writer that commits in batches (the ledger import) spends about half its time waiting for
the database. On two connections, one batch's statements run on the server while the next batch is
prepared in Python, as a lending system posting over two connections gets from the API. Each
stream is a thread with Django's connections of its own (closed when it ends), the caller's
language and time zone. A job marked as following the one before waits until that one has
finished (a line whose rows fill more than a batch is applied in order), and no job starts until
every job started ``streams`` jobs before it has finished: a job waiting on a lock holds the others
back to within one job per other stream. The first job to fail stops the rest from starting;
those already running finish, and their results still count.
"""

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from typing import TypeVar

from django.db import connection, connections
from django.utils import timezone, translation

T = TypeVar("T")

Job = tuple[Callable[[], T], bool]


def streams_possible(wanted: int) -> int:
    """Return how many streams may run: ``wanted`` on PostgreSQL outside a transaction, else 1.

    Inside a transaction (a caller's, or a test's) other connections cannot see what it holds, and
    SQLite takes one writer at a time.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, wanted)


def run_in_streams(jobs: Iterable[Job], *, streams: int, on_result: Callable[[T], None]) -> None:
    """Run each job of ``jobs`` (``(job, follows_previous)``) on one of ``streams`` streams; hand each result on.

    ``on_result`` is called on this thread, as each job finishes. Raise the first job's error once every
    job started has finished. With one stream, the jobs run here, one after another, on this connection.
    """
    if streams <= 1:
        for job, _follows in jobs:
            on_result(job())
        return
    work: queue.Queue = queue.Queue()
    language, zone = translation.get_language(), timezone.get_current_timezone()
    threads: list[threading.Thread] = []
    pending: list[Future] = []  # in the order started: the oldest first
    failure: list[BaseException] = []

    def settle(done: Iterable[Future]) -> None:
        for future in list(done):
            pending.remove(future)
            error = future.exception()
            if error is not None:
                failure.append(error)
            else:
                on_result(future.result())

    try:
        for number in range(streams):
            thread = threading.Thread(target=_stream, args=(work, language, zone), name=f"stream-{number}", daemon=True)
            thread.start()
            threads.append(thread)
        previous: Future | None = None
        for job, follows in jobs:
            settle([future for future in pending if future.done()])
            if follows and previous in pending and not failure:
                wait([previous])
                settle([previous])
            # A new job waits for the oldest running one, not for any: a stalled job (waiting on a lock)
            # lets at most ``streams - 1`` later jobs run past it.
            while len(pending) >= streams and not failure:
                wait([pending[0]])
                settle([pending[0]])
            if failure:
                break
            previous = Future()
            pending.append(previous)
            work.put((job, previous))
        wait(pending)
        settle(list(pending))
    finally:
        for _thread in threads:
            work.put(None)
        for thread in threads:
            thread.join()
    if failure:
        raise failure[0]


def _stream(work: queue.Queue, language: str | None, zone: object) -> None:
    try:
        with translation.override(language), timezone.override(zone):
            while (item := work.get()) is not None:
                job, future = item
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(job())
                    except BaseException as error:  # handed to the caller, which raises it
                        future.set_exception(error)
    finally:
        connections.close_all()
