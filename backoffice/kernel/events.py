"""The outbox: what happened, for the lender's systems, written in the same transaction as the change it reports.

Each app's services record their events here (this module imports no app). An event gets its
place in the feed (``position``) only when it is published, after its transaction has committed,
one publisher at a time: a transaction that commits late gets a later place instead of being
skipped by a reader who already read past its id.
"""

import json
import uuid
import zlib
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.bulksql import insert_rows


class EventType(models.TextChoices):
    """The events the lender's systems hear about, named exactly as they code against them."""

    CASE_OPENED = "case.opened", _("Case opened")
    CASE_STAGE_CHANGED = "case.stage_changed", _("Case stage changed")
    CASE_RESOLVED = "case.resolved", _("Case resolved")
    CASE_SETTLED = "case.settled", _("Case settled")
    CASE_WRITTEN_OFF = "case.written_off", _("Case written off")
    CASE_CLOSED = "case.closed", _("Case closed")
    CREDIT_LINE_FROZEN = "credit_line.frozen", _("Credit line frozen")
    CREDIT_LINE_UNFROZEN = "credit_line.unfrozen", _("Credit line unfrozen")
    CREDIT_LINE_CHARGED_OFF = "credit_line.charged_off", _("Credit line charged off")
    PROMISE_KEPT = "promise.kept", _("Promise kept")
    PROMISE_BROKEN = "promise.broken", _("Promise broken")
    LETTER_APPROVED = "letter.approved", _("Letter approved")
    LETTER_SENT = "letter.sent", _("Letter sent")
    LETTER_CANCELLED = "letter.cancelled", _("Letter cancelled")
    PAYMENT_REVERSED = "payment.reversed", _("Payment reversed")


# What a stage change is called, by the stage it reaches; any other stage is a plain change.
STAGE_EVENTS = {
    "resolved": EventType.CASE_RESOLVED,
    "settled": EventType.CASE_SETTLED,
    "written_off": EventType.CASE_WRITTEN_OFF,
    "closed": EventType.CASE_CLOSED,
}


def stage_event(to_stage: str) -> str:
    """Return the event type of a stage change to ``to_stage``."""
    return STAGE_EVENTS.get(to_stage, EventType.CASE_STAGE_CHANGED)


class Event(models.Model):
    """One thing that happened, as the lender's systems read it (``/api/v1/events/``)."""

    # Random and unique in practice; not indexed, as nothing looks an event up by it and a random key
    # makes every insert of the night's million events touch a different index page.
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=32, choices=EventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    # Plain ids, not foreign keys: the kernel knows no app's tables, and an event outlives what it reports.
    case_id = models.BigIntegerField(_("case"), null=True, blank=True)
    credit_line_id = models.BigIntegerField(_("credit line"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    position = models.BigIntegerField(_("place in the feed"), null=True, blank=True, editable=False)

    class Meta:
        app_label = "backoffice"
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["position"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(position__isnull=True), name="event_unpublished"),
            # The reconciliation counts a day's events by type from this index alone; the time only grows, so
            # each insert lands on its last page.
            models.Index(fields=["occurred_at", "type"], name="event_occurred_at"),
        ]
        constraints = [
            # Only published events are in it: an insert (the unpublished) never touches this index.
            models.UniqueConstraint(
                fields=["position"], condition=models.Q(position__isnull=False), name="event_one_per_place"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


def events_committed() -> None:
    """Tell whoever pushes events out (``EVENTS_ON_COMMIT``, a dotted path) that some have committed."""
    if settings.EVENTS_ON_COMMIT:
        import_string(settings.EVENTS_ON_COMMIT)()


def event_record(*, type: str, case_id: int | None = None, credit_line_id: int | None = None, **data: object) -> None:
    """Record one event, in the caller's transaction; its commit wakes the delivery."""
    Event.objects.create(
        type=type, occurred_at=timezone.now(), case_id=case_id, credit_line_id=credit_line_id, data=data
    )
    transaction.on_commit(events_committed)


EVENT_COLUMNS = [
    ("event_id", "uuid"),
    ("type", "text"),
    ("occurred_at", "timestamptz"),
    ("case_id", "bigint"),
    ("credit_line_id", "bigint"),
    ("data", "jsonb"),
]


def events_record(rows: Iterable[tuple[str, int | None, int | None, dict]]) -> int:
    """Record many events set-wise, in the caller's transaction: rows of (type, case id, line id, details).

    One wake per call on commit, however many rows: the night's batches add no work per event here.
    """
    now = timezone.now()
    encoded: dict[tuple, str] = {}  # the night's events repeat a few details (stages, run) a million times
    values = [(kind, now, case_id, line_id, _encoded(data, encoded)) for kind, case_id, line_id, data in rows]
    if values:
        transaction.on_commit(events_committed)
    if connection.vendor == "postgresql":
        # The database draws each id (gen_random_uuid(), the column's default there): a million fewer here.
        return insert_rows(Event._meta.db_table, EVENT_COLUMNS[1:], values)
    return insert_rows(Event._meta.db_table, EVENT_COLUMNS, [(uuid.uuid4(), *row) for row in values])


def _encoded(data: dict, seen: dict[tuple, str]) -> str:
    """Return ``data`` as JSON, encoding each distinct set of details once per call."""
    try:
        # With the values' types: 1, 1.0 and True are one dictionary key, but not one JSON value.
        key = (*data.items(), *map(type, data.values()))
        return seen[key]
    except KeyError:
        seen[key] = text = json.dumps(data)
        return text
    except TypeError:  # a detail that cannot be a key (a list): encoded each time
        return json.dumps(data)


_PUBLISH_LOCK = zlib.crc32(b"backoffice.events_publish")
_PUBLISH_BATCH = 50_000  # places given per call, in one statement


def events_publish() -> int:
    """Give every committed, unpublished event its place in the feed, in id order; return how many.

    One publisher at a time (an advisory lock; writers are not held up). What it cannot see yet is
    still in a transaction and is placed by a later call, after everything placed now.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PUBLISH_LOCK])
        last = Event.objects.aggregate(last=Max("position"))["last"] or 0
        table = Event._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                # A subquery, not a WITH: SQLite's driver reports no row count for a statement starting with WITH.
                f"""UPDATE {table} SET position = waiting.place
                      FROM (SELECT id, %s + ROW_NUMBER() OVER (ORDER BY id) AS place
                              FROM {table} WHERE position IS NULL ORDER BY id LIMIT %s) AS waiting
                     WHERE {table}.id = waiting.id""",
                [last, _PUBLISH_BATCH],
            )
            placed = cursor.rowcount
    return placed
