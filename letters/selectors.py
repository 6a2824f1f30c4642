"""Named reads of letters for other screens: a case's letters on its timeline."""

from django.urls import reverse

from cases.casework.models import Case
from cases.casework.selectors import TIMELINE_DEPTH, Event, who
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
