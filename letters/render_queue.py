"""The rendering queue: with a broker, drafted letters go to the ``letters`` queue in chunks of ids.

A chunk is queued once its drafts have committed; beat's sweep queues again the drafts still waiting
(drafted while no worker ran, a failed try, a task lost with its worker), at most once a lease. Without
a broker nothing is queued: ``render_letters`` and the drafting process render in-process.
"""

import datetime
import logging
from collections.abc import Iterator

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from letters.choices import LetterStatus
from letters.models import Letter

logger = logging.getLogger(__name__)

RENDER_TASK = "letters.render"


def id_chunks(letter_ids: list[int], size: int | None = None) -> Iterator[list[int]]:
    """Yield ``letter_ids`` in chunks of ``size`` (default ``LETTERS_RENDER_CHUNK``)."""
    size = size or settings.LETTERS_RENDER_CHUNK
    for start in range(0, len(letter_ids), size):
        yield letter_ids[start : start + size]


def waiting_to_render() -> QuerySet[Letter]:
    """Return the drafts without a PDF: what a rendering task or ``render_letters`` renders."""
    return Letter.objects.filter(status=LetterStatus.DRAFT, pdf="")


def letters_render_enqueue(*, letter_ids: list[int]) -> int:
    """Queue a rendering task per chunk of these drafts; return how many tasks were queued (none without a broker).

    Each letter's queueing time is written first, so that the sweep leaves it alone for a lease; a
    chunk the broker refuses gets its time cleared again, for the next sweep.
    """
    if not settings.CELERY_BROKER_URL or not letter_ids:
        return 0
    queued = 0
    for chunk in id_chunks(sorted(letter_ids)):
        waiting_to_render().filter(pk__in=chunk).update(render_queued_at=timezone.now())
        try:
            current_app.send_task(RENDER_TASK, args=[chunk], retry=False)
        except Exception:  # a broker that is down: the sweep queues them once it is back
            logger.warning("Could not queue the rendering of %d letter(s); the sweep will.", len(chunk), exc_info=True)
            Letter.objects.filter(pk__in=chunk).update(render_queued_at=None)
            continue
        queued += 1
    return queued


def letters_render_enqueue_on_commit(letter_ids: list[int]) -> None:
    """Queue these drafts' rendering once the drafting transaction commits (nothing for a rollback)."""
    ids = list(letter_ids)
    if ids and settings.CELERY_BROKER_URL:
        transaction.on_commit(lambda: letters_render_enqueue(letter_ids=ids), robust=True)


def letters_render_sweep(*, limit: int, now: datetime.datetime | None = None) -> int:
    """Queue the drafts waiting for a rendering task: never queued, or queued longer than a lease ago.

    Return how many letters were queued. A draft just queued is not queued again until its lease has
    passed, so a sweep every minute does not flood the queue with the same letters.
    """
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.LETTERS_RENDER_LEASE_SECONDS)
    due = waiting_to_render().filter(Q(render_queued_at__isnull=True) | Q(render_queued_at__lt=stale))
    ids = list(due.order_by("id").values_list("id", flat=True)[:limit])
    letters_render_enqueue(letter_ids=ids)
    return len(ids)
