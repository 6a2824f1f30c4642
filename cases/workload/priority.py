"""The queue's priority score: which case an agent should work next.

    priority = min(balance in yuan / 100, 50)        up to 50 points for ¥5,000 and more
             + min(days past due, 90) / 3            up to 30 points
             + 10 in agent collection, 5 in legal    (legal cases are mostly with the lawyers)
             + min(days since last contact, 14)      up to 14 points; never contacted counts 14
             + 10 per broken promise, up to 30

A case's place in the queue (``Case.queue_rank``) is its priority plus 1,000 when a follow-up is
due, so follow-ups due today come first. The rank is stored, so that a queue of 20,000 cases
is read in order from an index instead of scored and sorted on every page: the dunning run
writes it with every case it opens or updates (on a new day that is every open case with
anything overdue, since days past due move), and each service that changes a case's figures
refreshes that case at once.
Days since the last contact count calendar days in the business time zone, so the same date
always gives the same rank. ``priority_parts`` explains a case's score with the same numbers.
"""

import datetime
from collections.abc import Iterable

from django.db.models import Case as When_
from django.db.models import ExpressionWrapper, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from cases.casework.models import Case
from cases.choices import OPEN_STAGES, Stage

BALANCE_FEN_PER_POINT, BALANCE_CAP = 10_000, 50
DPD_PER_POINT, DPD_CAP = 3, 90
STAGE_POINTS = {Stage.COLLECTION: 10, Stage.LEGAL: 5}
STALE_CAP_DAYS = 14
BROKEN_PROMISE_POINTS, BROKEN_PROMISE_CAP = 10, 30
FOLLOW_UP_BONUS = 1_000


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def priority_expression(today: datetime.date) -> ExpressionWrapper:
    """Return the score as of ``today`` as an integer expression over the case's own columns."""
    midnight = _day_start(today)
    # Contacted d calendar days ago or more: last contact before the start of day today - (d - 1).
    staleness = When_(
        When(last_contact_at__isnull=True, then=Value(STALE_CAP_DAYS)),
        *[
            When(last_contact_at__lt=midnight - datetime.timedelta(days=days - 1), then=Value(days))
            for days in range(STALE_CAP_DAYS, 0, -1)
        ],
        default=Value(0),
    )
    stage = When_(*[When(stage=s, then=Value(p)) for s, p in STAGE_POINTS.items()], default=Value(0))
    score = (
        Least(F("balance_fen") / BALANCE_FEN_PER_POINT, Value(BALANCE_CAP))
        + Least(F("days_past_due"), Value(DPD_CAP)) / DPD_PER_POINT
        + stage
        + staleness
        + Least(F("broken_promises") * BROKEN_PROMISE_POINTS, Value(BROKEN_PROMISE_CAP))
    )
    return ExpressionWrapper(Coalesce(score, Value(0)), output_field=IntegerField())


def queue_rank_expression(today: datetime.date) -> ExpressionWrapper:
    """Return the priority plus the bonus that puts follow-ups due by ``today`` first."""
    follow_up = When_(When(follow_up_on__lte=today, then=Value(FOLLOW_UP_BONUS)), default=Value(0))
    return ExpressionWrapper(priority_expression(today) + follow_up, output_field=IntegerField())


def refresh_queue_ranks(
    *,
    today: datetime.date | None = None,
    case_ids: Iterable[int] | None = None,
    credit_lines: tuple[int, int] | None = None,
) -> int:
    """Store the queue rank of open cases whose rank changed; return how many.

    All open cases, or those in ``case_ids``, or those on credit lines with ids in ``credit_lines`` (first, last).
    """
    rank = queue_rank_expression(today or timezone.localdate())
    cases = Case.objects.filter(stage__in=OPEN_STAGES)
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    if credit_lines is not None:
        cases = cases.filter(credit_line_id__gte=credit_lines[0], credit_line_id__lte=credit_lines[1])
    return cases.filter(~Q(queue_rank=rank)).update(queue_rank=rank)


def _stale_days(last_contact_at: datetime.datetime | None, today: datetime.date) -> int:
    if last_contact_at is None:
        return STALE_CAP_DAYS
    return max(min((today - timezone.localtime(last_contact_at).date()).days, STALE_CAP_DAYS), 0)


PART_NAMES = ("balance", "days_past_due", "stage", "since_last_contact", "broken_promises")


def score_parts(
    *,
    balance_fen: int,
    days_past_due: int,
    stage: str,
    last_contact_at: datetime.datetime | None,
    broken_promises: int,
    today: datetime.date,
) -> tuple[int, ...]:
    """Return the parts of the score from a case's figures, in ``PART_NAMES`` order: the numbers of ``priority_expression``."""
    return (
        min(balance_fen // BALANCE_FEN_PER_POINT, BALANCE_CAP),
        min(days_past_due, DPD_CAP) // DPD_PER_POINT,
        STAGE_POINTS.get(stage, 0),
        _stale_days(last_contact_at, today),
        min(broken_promises * BROKEN_PROMISE_POINTS, BROKEN_PROMISE_CAP),
    )


def queue_rank_of(*, follow_up_on: datetime.date | None, today: datetime.date, **figures: object) -> int:
    """Return the queue rank from a case's figures (what the dunning run writes with each case it touches)."""
    bonus = FOLLOW_UP_BONUS if follow_up_on is not None and follow_up_on <= today else 0
    return sum(score_parts(today=today, **figures)) + bonus


def priority_parts(case: object, today: datetime.date | None = None) -> dict[str, int]:
    """Return each part of a case's score by name, for showing it to the agent."""
    parts = score_parts(
        balance_fen=case.balance_fen,
        days_past_due=case.days_past_due,
        stage=case.stage,
        last_contact_at=case.last_contact_at,
        broken_promises=case.broken_promises,
        today=today or timezone.localdate(),
    )
    return dict(zip(PART_NAMES, parts, strict=True))
