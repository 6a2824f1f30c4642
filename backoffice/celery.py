"""The Celery app: ``celery -A backoffice worker`` and ``celery -A backoffice beat``.

Configured from Django's settings (the ``CELERY_`` ones); used only when ``CELERY_BROKER_URL`` is set.
A worker that consumes the ``letters`` queue takes the letters' shape whatever command started it:
its processes are replaced after 1,000 letters or past ``LETTERS_WORKER_MAX_MEMORY_MB``, and the fonts
are loaded once in the parent, before it forks them.
"""

import logging
import os
from collections.abc import Iterable

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["backoffice.kernel.webhooks", "cases.outreach"])

LETTERS_QUEUE = "letters"


def consumes_letters(queues: str | Iterable[str] | None) -> bool:
    """Say whether a worker started with these ``-Q`` queues consumes the letters queue."""
    if not queues:
        return False
    names = queues.split(",") if isinstance(queues, str) else queues
    return LETTERS_QUEUE in {name.strip() for name in names}


def letters_worker_limits(*, chunk: int, max_memory_mb: int) -> dict[str, int]:
    """Return the recycling of a letters worker's processes: 1,000 letters (in tasks of ``chunk``), or memory."""
    from letters.batch import LETTERS_PER_WORKER  # noqa: PLC0415 - the app loads before Django is set up

    return {
        "worker_max_tasks_per_child": max(1, LETTERS_PER_WORKER // chunk),
        "worker_max_memory_per_child": max_memory_mb * 1024,  # Celery counts kilobytes
    }


@signals.celeryd_init.connect
def letters_worker_configure(conf: object, options: dict, **_kwargs: object) -> None:
    """Give a worker of the letters queue its recycling, unless its command line set it."""
    if not consumes_letters(options.get("queues")):
        return
    from django.conf import settings  # noqa: PLC0415 - the app loads before Django is set up

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
    from letters.workers import setup_worker  # noqa: PLC0415 - the app loads before Django is set up

    setup_worker()
    logging.getLogger("letters").info("Letters' fonts loaded in the worker's parent process, before it forks.")
