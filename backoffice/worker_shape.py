"""The shape of a worker that consumes the ``letters`` queue, whatever command started it.

Its processes are replaced after 1,000 letters or past ``LETTERS_WORKER_MAX_MEMORY_MB``, and the letters'
fonts are loaded once in the parent, before it forks them. Every worker imports this module at start
(``CELERY_IMPORTS``), before the signals below are sent.
"""

import logging
from collections.abc import Iterable

from celery import signals
from django.conf import settings

from letters.batch import LETTERS_PER_WORKER
from letters.workers import setup_worker

LETTERS_QUEUE = "letters"


def consumes_letters(queues: str | Iterable[str] | None) -> bool:
    """Say whether a worker started with these ``-Q`` queues consumes the letters queue."""
    if not queues:
        return False
    names = queues.split(",") if isinstance(queues, str) else queues
    return LETTERS_QUEUE in {name.strip() for name in names}


def letters_worker_limits(*, chunk: int, max_memory_mb: int) -> dict[str, int]:
    """Return the recycling of a letters worker's processes: 1,000 letters (in tasks of ``chunk``), or memory."""
    return {
        "worker_max_tasks_per_child": max(1, LETTERS_PER_WORKER // chunk),
        "worker_max_memory_per_child": max_memory_mb * 1024,  # Celery counts kilobytes
    }


@signals.celeryd_init.connect
def letters_worker_configure(conf: object, options: dict, **_kwargs: object) -> None:
    """Give a worker of the letters queue its recycling, unless its command line set it."""
    if not consumes_letters(options.get("queues")):
        return
    limits = letters_worker_limits(
        chunk=settings.LETTERS_RENDER_CHUNK, max_memory_mb=settings.LETTERS_WORKER_MAX_MEMORY_MB
    )
    for name, value in limits.items():
        if conf.get(name) is None:
            conf[name] = value


@signals.worker_init.connect
def letters_worker_warm(sender: object, **_kwargs: object) -> None:
    """Load the letters' fonts in the worker's parent process, so that every forked process starts with them."""
    if LETTERS_QUEUE not in sender.app.amqp.queues.consume_from:
        return
    setup_worker()
    logging.getLogger("letters").info("Letters' fonts loaded in the worker's parent process, before it forks.")
