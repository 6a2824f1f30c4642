"""The queue's priority score: which case an agent should work next.

    priority = min(balance in yuan / 100, 50)        up to 50 points for ¥5,000 and more
             + min(days past due, 90) / 3            up to 30 points
             + 10 in agent collection, 5 in legal    (legal cases are mostly with the lawyers)
             + min(days since last contact, 14)      up to 14 points; never contacted counts 14
             + 10 per broken promise, up to 30

Written once as a database expression, so the queue orders 1,000,000 cases in SQL, and
``priority_parts`` explains a case's score to the agent with the same numbers.
"""

import datetime

from django.db.models import Case as When_
from django.db.models import ExpressionWrapper, F, IntegerField, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from cases.choices import Stage

BALANCE_FEN_PER_POINT, BALANCE_CAP = 10_000, 50
DPD_PER_POINT, DPD_CAP = 3, 90
STAGE_POINTS = {Stage.COLLECTION: 10, Stage.LEGAL: 5}
STALE_CAP_DAYS = 14
BROKEN_PROMISE_POINTS, BROKEN_PROMISE_CAP = 10, 30


def priority_expression(now: datetime.datetime | None = None) -> ExpressionWrapper:
    """Return the score as an integer expression over the case's own columns."""
    now = now or timezone.now()
    stale_since = now - datetime.timedelta(days=STALE_CAP_DAYS)
    staleness = When_(
        When(last_contact_at__isnull=True, then=Value(STALE_CAP_DAYS)),
        When(last_contact_at__lte=stale_since, then=Value(STALE_CAP_DAYS)),
        *[
            When(last_contact_at__lte=now - datetime.timedelta(days=days), then=Value(days))
            for days in range(STALE_CAP_DAYS - 1, 0, -1)
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


def priority_parts(case: object, now: datetime.datetime | None = None) -> dict[str, int]:
    """Return each part of a case's score, for showing it to the agent."""
    now = now or timezone.now()
    days = STALE_CAP_DAYS if case.last_contact_at is None else min((now - case.last_contact_at).days, STALE_CAP_DAYS)
    return {
        "balance": min(case.balance_fen // BALANCE_FEN_PER_POINT, BALANCE_CAP),
        "days_past_due": min(case.days_past_due, DPD_CAP) // DPD_PER_POINT,
        "stage": STAGE_POINTS.get(case.stage, 0),
        "since_last_contact": max(days, 0),
        "broken_promises": min(case.broken_promises * BROKEN_PROMISE_POINTS, BROKEN_PROMISE_CAP),
    }
