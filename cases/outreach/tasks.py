"""The messages' Celery tasks: beat runs the poll, the poll queues one sending task per chunk that is due."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from cases.outreach.models import Message
from cases.outreach.services import due_now, messages_send_chunk


@shared_task(name="cases.outreach.send", ignore_result=True)
def messages_send(limit: int) -> int:
    """Claim and send up to ``limit`` due messages; a repeat finds them claimed or sent and does nothing."""
    return messages_send_chunk(limit=limit).handled


@shared_task(name="cases.outreach.poll", ignore_result=True)
def messages_poll() -> int:
    """Queue enough sending tasks for what is due now, up to the poll's ceiling; return how many."""
    chunk = settings.MESSAGE_CHUNK
    due = Message.objects.filter(due_now(timezone.now())).order_by()[: settings.MESSAGE_POLL_BATCH].count()
    tasks = -(-due // chunk)
    for _task in range(tasks):
        messages_send.delay(chunk)
    return tasks
