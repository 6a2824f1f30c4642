"""What came in and what went out, per business day (the local date in ``TIME_ZONE``), so that the lender can
prove nothing was lost either way.

In: customers, credit lines and bills by the time they came in (``created_at``), bill amendments (the
bill's history records that carry a reason), payments and reversals by the time they were recorded
(``recorded_at``, not the time the money was received): a payment has a positive amount, a reversal a
negative one. Out: the outbox's events by type, every type listed, by the time they occurred.

One aggregate query per table for the whole range, grouped by day, whatever its length.
"""

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from accounts.models import Bill, CreditLine, Customer, Payment
from backoffice.kernel.events import Event, EventType

PERMISSION = "backoffice.view_reconciliation"  # what a person needs to read it (supervisors)
MAX_DAYS = 31
# Days the report can speak of: far enough apart for any ledger, near enough that every bound is a valid instant.
EARLIEST, LATEST = datetime.date(2000, 1, 1), datetime.date(2999, 12, 31)

IN_COUNTS = ("customers", "credit_lines", "bills_new", "bills_amended", "payments", "reversals")
IN_SUMS = ("payments_fen", "reversals_fen")


@dataclass
class DayFigures:
    """What came in and went out on one business day (or over a range, for the totals)."""

    day: datetime.date | None
    customers: int = 0
    credit_lines: int = 0
    bills_new: int = 0
    bills_amended: int = 0
    payments: int = 0
    payments_fen: int = 0
    reversals: int = 0
    reversals_fen: int = 0  # as recorded: negative
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EventType.values, 0))

    @property
    def is_empty(self) -> bool:
        """Return whether nothing came in or went out."""
        return not any(getattr(self, name) for name in IN_COUNTS) and not any(self.events.values())

    def add(self, other: "DayFigures") -> None:
        """Add another day's figures to these."""
        for name in (*IN_COUNTS, *IN_SUMS):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, count in other.events.items():
            self.events[kind] += count


@dataclass
class Reconciliation:
    """The figures of every day from ``first`` to ``last`` (both included), zeros included, and their totals."""

    first: datetime.date
    last: datetime.date
    time_zone: str
    days: list[DayFigures]
    totals: DayFigures

    @property
    def is_empty(self) -> bool:
        """Return whether nothing at all came in or went out in the range."""
        return self.totals.is_empty


def may_read_reconciliation(user: object) -> bool:
    """Return whether the person may read the reconciliation (supervisors and superusers)."""
    return user.is_active and user.is_staff and user.has_perm(PERMISSION)


def check_range(*, first: datetime.date, last: datetime.date) -> None:
    """Refuse a range that ends before it starts, is longer than ``MAX_DAYS`` or lies outside the report's days,
    naming the field (``from``/``to``) and its value."""
    for name, day in (("from", first), ("to", last)):
        if not EARLIEST <= day <= LATEST:
            message = _("%(value)s is outside the days the report covers (%(first)s to %(last)s).")
            params = {"value": day.isoformat(), "first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
            raise ValidationError({name: message % params})
    if last < first:
        message = _("%(value)s is before the first day %(first)s.")
        raise ValidationError({"to": message % {"value": last.isoformat(), "first": first.isoformat()}})
    if (last - first).days + 1 > MAX_DAYS:
        message = _("%(value)s is more than %(days)d days after %(first)s: ask for at most %(days)d days at once.")
        raise ValidationError(
            {"to": message % {"value": last.isoformat(), "first": first.isoformat(), "days": MAX_DAYS}}
        )


def rows_by_day(
    rows: QuerySet, moment: str, zone: zoneinfo.ZoneInfo, start: datetime.datetime, end: datetime.datetime
) -> QuerySet:
    """Rows whose ``moment`` falls in [start, end), grouped by its local date (``day``)."""
    return (
        rows.filter(**{f"{moment}__gte": start, f"{moment}__lt": end})
        .annotate(day=TruncDate(moment, tzinfo=zone))
        .order_by()
        .values("day")
    )


def _counts(rows: QuerySet) -> dict[datetime.date, int]:
    # COUNT(*), not of the id, so that the time index alone answers.
    return dict(rows.annotate(n=Count("*")).values_list("day", "n"))


def reconciliation_report(*, first: datetime.date, last: datetime.date) -> Reconciliation:
    """Return what came in and went out on each day from ``first`` to ``last``; six queries for any range."""
    check_range(first=first, last=last)
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    figures = {
        day: DayFigures(day) for day in (first + datetime.timedelta(days=n) for n in range((last - first).days + 1))
    }
    for name, model in (("customers", Customer), ("credit_lines", CreditLine), ("bills_new", Bill)):
        for day, count in _counts(rows_by_day(model.objects.all(), "created_at", zone, start, end)).items():
            setattr(figures[day], name, count)
    # An amendment is a change recorded with a reason; a payment's allocation changes a bill without one.
    amendments = Bill.history.filter(history_type="~").exclude(history_change_reason__isnull=True)
    amendments = amendments.exclude(history_change_reason="")
    for day, count in _counts(rows_by_day(amendments, "history_date", zone, start, end)).items():
        figures[day].bills_amended = count
    payments_by_day_add(figures, rows_by_day(Payment.objects.all(), "recorded_at", zone, start, end))
    events = rows_by_day(Event.objects.all(), "occurred_at", zone, start, end).values_list("day", "type")
    for day, kind, count in events.annotate(n=Count("*")).values_list("day", "type", "n"):
        figures[day].events[kind] = figures[day].events.get(kind, 0) + count
    totals = DayFigures(None)
    for day_figures in figures.values():
        totals.add(day_figures)
    return Reconciliation(first, last, settings.TIME_ZONE, list(figures.values()), totals)


def payments_by_day_add(figures: dict[datetime.date, DayFigures], rows: QuerySet) -> None:
    """Add to each day's figures its payments and reversals, counted and summed (``rows``: payments by day)."""
    received, reversed_ = Q(amount_fen__gt=0), Q(amount_fen__lt=0)
    aggregates = rows.annotate(
        payments=Count("amount_fen", filter=received),
        payments_fen=Sum("amount_fen", filter=received, default=0),
        reversals=Count("amount_fen", filter=reversed_),
        reversals_fen=Sum("amount_fen", filter=reversed_, default=0),
    )
    for row in aggregates:
        day = figures[row["day"]]
        day.payments, day.payments_fen = row["payments"], row["payments_fen"]
        day.reversals, day.reversals_fen = row["reversals"], row["reversals_fen"]
