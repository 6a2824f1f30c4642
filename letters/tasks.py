"""The letters' Celery tasks: thin, idempotent, keyed by ids.

``letters.render`` (queue ``letters``) renders a chunk of drafts; beat runs ``letters.render_sweep`` every
``LETTERS_RENDER_SWEEP_SECONDS`` and ``letters.send_due`` (queue ``dispatch``) every ``LETTERS_POLL_SECONDS``.
"""

from celery import shared_task
from django.conf import settings

from letters.dispatch import letters_send_due
from letters.render_queue import letters_render_sweep
from letters.services import letters_render


@shared_task(name="letters.render", ignore_result=True)
def letters_render_task(letter_ids: list[int]) -> int:
    """Render those of these letters still waiting, each as one counted try; a repeat renders nothing."""
    return letters_render(letter_ids=letter_ids)


@shared_task(name="letters.render_sweep", ignore_result=True)
def letters_render_sweep_task() -> int:
    """Queue the drafts left waiting for a rendering task; return how many letters were queued."""
    return letters_render_sweep(limit=settings.LETTERS_RENDER_SWEEP_BATCH)


@shared_task(name="letters.send_due", ignore_result=True)
def letters_send_due_task() -> int:
    """Send the letters whose e-mail is due; return how many the mail server accepted."""
    return letters_send_due(limit=settings.LETTERS_SEND_BATCH)
