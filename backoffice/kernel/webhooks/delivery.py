"""From published events to attempts: deliveries made set-wise, claimed, sent, retried with backoff, or dead.

A delivery is due when its time has come, its subscription is active, and no earlier event of the
same case (or, for a line without a case, of the same line) is still undelivered for that
subscription: a later event waits behind an earlier one, even a dead one, until it is delivered.
A runner claims a delivery by moving its due time forward by a lease (a compare-and-set), so two
runners never send it at once and a runner that dies gives it back when the lease lapses.
"""

import datetime
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.module_loading import import_string

from backoffice.kernel.events import Event, events_publish
from backoffice.kernel.webhooks import transport
from backoffice.kernel.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from backoffice.kernel.webhooks.signing import signature_header

logger = logging.getLogger("backoffice.webhooks")

FAN_OUT_WINDOW = 50_000  # feed places turned into deliveries per statement
DUE_BATCH = 100  # deliveries claimed at a time by one runner
RETRY_BASE = datetime.timedelta(seconds=30)
RETRY_CAP = datetime.timedelta(hours=1)


@dataclass
class Summary:
    """What one run did."""

    published: int = 0
    created: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0

    def add(self, outcome: str) -> None:
        """Count one attempt's outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)


def feed_end() -> int:
    """Return the last place given in the feed."""
    return Event.objects.aggregate(last=Max("position"))["last"] or 0


def events_publish_all() -> int:
    """Publish every committed event, 50,000 places a statement; return how many were placed."""
    total = placed = events_publish()
    while placed > 0:
        placed = events_publish()
        total += placed
    return total


def _insert_deliveries(subscription: WebhookSubscription, after: int, upto: int, now: datetime.datetime) -> int:
    delivery, event = WebhookDelivery._meta.db_table, Event._meta.db_table
    types = subscription.event_types
    type_filter = f"AND e.type IN ({', '.join(['%s'] * len(types))})" if types else ""
    stamp = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {delivery} (subscription_id, event_id, position, order_key, status, attempts,
                                        next_attempt_at, created_at, last_error)
                SELECT %s, e.id, e.position, COALESCE(e.case_id, -e.credit_line_id), %s, 0, %s, %s, ''
                  FROM {event} e
                 WHERE e.position > %s AND e.position <= %s AND e.occurred_at >= %s {type_filter}
                ON CONFLICT (subscription_id, event_id) DO NOTHING""",
            [
                subscription.pk,
                DeliveryStatus.PENDING,
                stamp(now),
                stamp(now),
                after,
                upto,
                stamp(subscription.hears_from),
                *types,
            ],
        )
        return cursor.rowcount


def _fan_out_window(subscription_id: int, last: int, now: datetime.datetime) -> tuple[int, bool]:
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
        after = subscription.fanned_out_to
        if after >= last:
            return 0, False
        upto = min(last, after + FAN_OUT_WINDOW)
        created = _insert_deliveries(subscription, after, upto, now)
        WebhookSubscription.objects.filter(pk=subscription_id).update(fanned_out_to=upto)
    return created, upto < last


def deliveries_create(*, now: datetime.datetime | None = None) -> int:
    """Make one delivery per published event and active subscription that hears it, set-wise; return how many."""
    now, last, created = now or timezone.now(), feed_end(), 0
    for subscription_id in WebhookSubscription.objects.filter(is_active=True).values_list("pk", flat=True):
        more = True
        while more:
            made, more = _fan_out_window(subscription_id, last, now)
            created += made
    return created


def webhooks_prepare() -> tuple[int, int] | None:
    """Publish what has committed and make its deliveries; ``None``, at the cost of one query, when no
    subscription is active (the night's million events are then not even published here)."""
    if not WebhookSubscription.objects.filter(is_active=True).exists():
        return None
    published = events_publish_all()
    return published, deliveries_create()


def deliveries_due(*, now: datetime.datetime, limit: int) -> list[int]:
    """Return the ids of deliveries due now, each the earliest undelivered one of its case for its subscription."""
    earlier = WebhookDelivery.objects.filter(
        subscription=OuterRef("subscription"), order_key=OuterRef("order_key"), position__lt=OuterRef("position")
    ).exclude(status=DeliveryStatus.DELIVERED)
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True
    ).filter(~Exists(earlier))
    return list(due.order_by("next_attempt_at", "position").values_list("pk", flat=True)[:limit])


def deliveries_claim(ids: list[int], *, now: datetime.datetime) -> tuple[list[int], datetime.datetime]:
    """Claim the deliveries still due among ``ids`` (one statement); return those claimed and the lease they hold."""
    if not ids:
        return [], now
    lease = now + datetime.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    stamp = connection.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(ids))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {WebhookDelivery._meta.db_table} SET next_attempt_at = %s
                 WHERE id IN ({marks}) AND status = %s AND next_attempt_at <= %s RETURNING id""",
            [stamp(lease), *ids, DeliveryStatus.PENDING, stamp(now)],
        )
        claimed = sorted(row[0] for row in cursor.fetchall())
    return claimed, lease


def retry_delay(attempts: int) -> datetime.timedelta:
    """Return the wait after the ``attempts``-th failure: doubling from 30 s to at most an hour, half of it random."""
    ceiling = min(RETRY_BASE * 2 ** min(attempts - 1, 20), RETRY_CAP)
    return ceiling / 2 + ceiling / 2 * random.random()


def event_body(event: Event) -> bytes:
    """Return the JSON body of an event, as the pull feed shows it, in UTF-8."""
    represent: Callable[[list[Event]], list[dict]] = import_string(settings.EVENT_REPRESENTATION)
    payload = represent([event])[0]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _send(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    body = event_body(delivery.event)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "collections-backoffice-webhooks/1",
        "X-Event-Id": str(delivery.event.event_id),
        "X-Event-Type": delivery.event.type,
        "X-Signature": signature_header(secret=delivery.subscription.secret, timestamp=int(time.time()), body=body),
    }
    try:
        answer = transport.post(delivery.subscription.url, body=body, headers=headers)
    except transport.DeliveryFailed as exc:
        return None, str(exc), ""
    if 200 <= answer.status < 300:
        return answer.status, "", answer.excerpt
    return answer.status, f"HTTP {answer.status}", answer.excerpt


def _outcome(delivery: WebhookDelivery, status_code: int | None, error: str, now: datetime.datetime) -> dict:
    first = delivery.first_attempt_at or now
    changes = {"attempts": delivery.attempts + 1, "first_attempt_at": first, "last_status_code": status_code}
    if not error:
        return {**changes, "status": DeliveryStatus.DELIVERED, "delivered_at": now, "last_error": ""}
    changes["last_error"] = error
    if now - first >= datetime.timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
        return {**changes, "status": DeliveryStatus.DEAD}
    return {**changes, "next_attempt_at": now + retry_delay(changes["attempts"])}


def delivery_attempt(*, delivery_id: int, lease: datetime.datetime, runner: str) -> str:
    """Send a claimed delivery once and record the attempt; return delivered, retried, dead or skipped.

    Keyed by the delivery and its lease: a second run of the same claim (a task delivered twice by
    the broker) finds the lease gone and does nothing.
    """
    delivery = (
        WebhookDelivery.objects.select_related("subscription", "event")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at=lease)
        .first()
    )
    if delivery is None:
        return "skipped"
    started, clock = timezone.now(), time.perf_counter()
    status_code, error, excerpt = _send(delivery)
    duration_ms = round((time.perf_counter() - clock) * 1000)
    changes = _outcome(delivery, status_code, error, timezone.now())
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=lease).update(
            **changes
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            started_at=started,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error,
            response_excerpt=excerpt,
            runner=runner[:100],
        )
    outcome = {DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.DEAD: "dead"}.get(changes.get("status"), "retried")
    # Ids and outcome only: the body may carry personal data and stays out of the logs.
    logger.info(
        "webhook delivery %s (event %s, subscription %s): %s, status %s, %d ms",
        delivery.pk,
        delivery.event.event_id,
        delivery.subscription_id,
        outcome,
        status_code,
        duration_ms,
    )
    return outcome


def webhooks_run(
    *, runner: str, limit: int | None = None, progress: Callable[[Summary], None] | None = None
) -> Summary:
    """Publish, make deliveries, and send every delivery due, in this process, until none is due (or ``limit``)."""
    summary = Summary()
    prepared = webhooks_prepare()
    if prepared is None:
        return summary
    summary.published, summary.created = prepared
    remaining = limit
    while remaining is None or remaining > 0:
        batch = DUE_BATCH if remaining is None else min(DUE_BATCH, remaining)
        now = timezone.now()
        claimed, lease = deliveries_claim(deliveries_due(now=now, limit=batch), now=now)
        if not claimed:
            break
        for delivery_id in claimed:
            summary.add(delivery_attempt(delivery_id=delivery_id, lease=lease, runner=runner))
        if remaining is not None:
            remaining -= len(claimed)
        if progress:
            progress(summary)
    return summary


def deliveries_queue_due(*, send: Callable[[int, datetime.datetime], object], limit: int) -> int:
    """Publish, make deliveries, claim up to ``limit`` due ones and hand each to ``send`` (a task queue)."""
    if webhooks_prepare() is None:
        return 0
    now = timezone.now()
    claimed, lease = deliveries_claim(deliveries_due(now=now, limit=limit), now=now)
    for delivery_id in claimed:
        send(delivery_id, lease)
    return len(claimed)


def deliveries_waiting() -> int:
    """Return how many deliveries are pending (due later, or waiting behind an earlier event of their case)."""
    return WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count()
