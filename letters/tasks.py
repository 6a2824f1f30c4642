"""The letters' Celery task: thin, idempotent. Beat runs it every ``LETTERS_POLL_SECONDS``."""

from celery import shared_task
from django.conf import settings

from letters.dispatch import letters_send_due


@shared_task(name="letters.send_due", ignore_result=True)
def letters_send_due_task() -> int:
    """Send the letters whose e-mail is due; return how many the mail server accepted."""
    return letters_send_due(limit=settings.LETTERS_SEND_BATCH)
