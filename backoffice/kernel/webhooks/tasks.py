"""The webhooks' Celery tasks: thin, idempotent, keyed by ids. Beat runs the poll; the poll queues deliveries."""

import datetime

from celery import shared_task
from django.conf import settings

from backoffice.kernel.webhooks.delivery import deliveries_queue_due, delivery_attempt


@shared_task(name="backoffice.webhooks.deliver", bind=True, ignore_result=True)
def webhook_deliver(self: object, delivery_id: int, lease: str) -> str:
    """Attempt one claimed delivery; a repeat of the same claim does nothing."""
    return delivery_attempt(
        delivery_id=delivery_id, lease=datetime.datetime.fromisoformat(lease), runner=f"worker {self.request.id}"
    )


def _queue(delivery_id: int, lease: datetime.datetime) -> None:
    webhook_deliver.delay(delivery_id, lease.isoformat())


@shared_task(name="backoffice.webhooks.poll", ignore_result=True)
def webhooks_poll() -> int:
    """Publish, make deliveries, and queue a task for each delivery now due; return how many were queued."""
    return deliveries_queue_due(send=_queue, limit=settings.WEBHOOK_POLL_BATCH)
