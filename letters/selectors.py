"""Named reads of letters: a case's letters on its timeline, the e-mail queue, the rendering counts, and
the letters whose cases paid within 30 days of their sending."""

import datetime
import zoneinfo

from django.conf import settings
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Payment
from backoffice.kernel.bulksql import values_table
from cases.casework.models import Case
from cases.casework.selectors import TIMELINE_DEPTH, Event, who
from letters.choices import DispatchChannel, LetterStatus
from letters.models import Letter

# A letter's case is followed for the day of the sending and the 29 days after.
PAID_WITHIN_DAYS = 30


def _sending_days(first: datetime.date, last: datetime.date) -> tuple[str, list[object]]:
    """Return a derived table of the sending days ``first`` to ``last``: bounds, and the last day paid counts on."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    rows, day = [], first
    while day <= last:
        following = day + datetime.timedelta(days=1)
        until = min(day + datetime.timedelta(days=PAID_WITHIN_DAYS - 1), yesterday)
        bounds = [datetime.datetime.combine(moment, datetime.time.min, tzinfo=zone) for moment in (day, following)]
        rows.append((day, until, *bounds))
        day = following
    columns = [("sent_on", "date"), ("until", "date"), ("starts", "timestamptz"), ("ends", "timestamptz")]
    return values_table(columns, rows)


def paid_within_sql(first: datetime.date, last: datetime.date) -> tuple[str, list[object]]:
    """Return SQL for the ids of the letters sent from ``first`` to ``last`` whose cases paid within 30 days.

    As the night counts them: what the credit line received from the day of the sending to the 29th
    day after (or yesterday, if sooner), net of reversals, is more than nothing.
    """
    days, params = _sending_days(first, last)
    paid = (
        f"SELECT SUM(p.amount_fen) FROM {Payment._meta.db_table} p WHERE p.credit_line_id = c.credit_line_id "
        "AND p.received_on >= s.sent_on AND p.received_on <= s.until"
    )
    sql = (
        f"SELECT l.id FROM {Letter._meta.db_table} l JOIN {days} s ON l.sent_at >= s.starts AND l.sent_at < s.ends "
        f"JOIN {Case._meta.db_table} c ON c.id = l.case_id WHERE ({paid}) > 0"
    )
    return sql, params


def letter_events(case: Case) -> list[Event]:
    """Return the case's letters as timeline events, newest first (one query)."""
    rows = Letter.objects.filter(case=case).select_related("requested_by").order_by("-requested_at", "-id")
    return [
        Event(
            letter.requested_at,
            "letter",
            f"{letter.get_kind_display()} {letter.number}: {letter.get_status_display()}",
            letter.get_language_display(),
            who(letter.requested_by),
            reverse("admin:letters_letter_change", args=[letter.pk]),
        )
        for letter in rows[:TIMELINE_DEPTH]
    ]


def letters_queued_for_email() -> QuerySet[Letter]:
    """Return the approved letters waiting for an e-mail try (due now or later)."""
    return Letter.objects.filter(
        status=LetterStatus.APPROVED, dispatch_channel=DispatchChannel.EMAIL, next_attempt_at__isnull=False
    )


def rendering_counts(letters: QuerySet[Letter]) -> dict[str, int]:
    """Return how many of ``letters`` wait to be rendered and how many failed rendering (one query)."""
    rows = (
        letters.filter(status__in=[LetterStatus.DRAFT, LetterStatus.RENDER_FAILED])
        .order_by()
        .values("status")
        .annotate(letters=Count("id"))
    )
    counts = {row["status"]: row["letters"] for row in rows}
    return {"waiting": counts.get(LetterStatus.DRAFT, 0), "failed": counts.get(LetterStatus.RENDER_FAILED, 0)}
