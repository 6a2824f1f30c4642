"""What a commit that wrote events wakes: a delivery thread of this process, which delivers (no broker) or asks
the broker for a poll (``CELERY_BROKER_URL``).

Never anything slow in the committing thread: neither a subscriber nor the broker may stall the
request or the batch that wrote the event. Many commits in a row wake the thread once. Retries are
the periodic poll's (beat) or ``deliver_events``'s (cron).
"""

import logging
import threading
import time

from django.conf import settings
from django.db import connections

from backoffice.kernel.webhooks.delivery import webhooks_run
from backoffice.kernel.webhooks.tasks import webhooks_poll

logger = logging.getLogger("backoffice.webhooks")

POLL_AT_MOST_EVERY = 5.0  # seconds between two polls one process asks the broker for

_wake = threading.Event()
_start = threading.Lock()
_state = {"thread": None, "polled": 0.0}


def _deliver_forever() -> None:
    while True:
        _wake.wait()
        _wake.clear()
        try:
            if settings.CELERY_BROKER_URL:
                _poll_soon()
            else:
                webhooks_run(runner=f"thread {threading.get_native_id()}")
        except Exception:  # the thread must outlive any one pass; the next wake tries again
            logger.exception("webhook delivery pass failed")
        finally:
            connections.close_all()


def _thread_wake() -> None:
    # Started on the first wake, so a process that writes no event (a worker, a shell) has no thread.
    with _start:
        thread = _state["thread"]
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_deliver_forever, name="webhook-delivery", daemon=True)
            thread.start()
            _state["thread"] = thread
    _wake.set()


def _poll_soon() -> None:
    now = time.monotonic()
    if now - _state["polled"] < POLL_AT_MOST_EVERY:
        return
    _state["polled"] = now
    try:
        webhooks_poll.apply_async(retry=False)
    except Exception:  # a broker that is down must not end the thread; beat polls once it is back
        logger.warning("could not ask the broker for a webhook poll; the periodic poll will deliver")


def webhooks_wake() -> None:
    """Have what was just committed delivered soon, outside this thread."""
    _thread_wake()
