"""Named reads of letters: a case's letters on its timeline, the e-mail queue, the rendering counts."""

from django.db.models import Count, QuerySet
from django.urls import reverse

from cases.casework.models import Case
from cases.casework.selectors import TIMELINE_DEPTH, Event, who
from letters.choices import DispatchChannel, LetterStatus
from letters.models import Letter


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
