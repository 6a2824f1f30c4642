"""The demo's people history: its past weeks' contacts, promises, placements and payments, dated when they happened,
and the people rows of each past day written by the night's own step.

The demo's nights run in minutes at seeding time, so what they stamp (a case's opening, its closing) carries the
seeding's clock; here each is dated by the night that did it, the demo's payments are recorded when they were
received, and then ``people_write`` writes each past day as the night after it would have.
"""

import datetime
import random
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Max, OuterRef, Subquery

from accounts.models import Payment
from accounts.services import payment_post, payment_reverse
from backoffice.reports.aggregate_people import people_write
from backoffice.reports.models import PeopleDay
from backoffice.sameday import lines_refresh
from cases.choices import FINAL_STAGES, ContactChannel, ContactOutcome
from cases.models import Case, CaseTransition, Contact, DunningRun, Placement, Promise

# What the demo's calls came to, and how often.
OUTCOMES = [
    (ContactOutcome.NO_ANSWER, 40),
    (ContactOutcome.CONNECTED, 25),
    (ContactOutcome.PROMISE, 12),
    (ContactOutcome.REFUSED, 10),
    (ContactOutcome.WRONG_NUMBER, 8),
    (ContactOutcome.DISPUTE, 5),
]
# One case in so many is never reached, so that coverage has a gap.
NEVER_CONTACTED_EVERY = 4


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def demo_people(*, today: datetime.date, days: int, seed: int = 2026) -> int:
    """Date the demo's case history, add its contacts, promises and agency payments, and write its past ``days``."""
    rng, first = random.Random(seed), today - datetime.timedelta(days=days)
    with transaction.atomic():
        _cases_dated_by_their_nights()
        Payment.objects.filter(external_reference__startswith="DEMO-").update(recorded_at=F("received_at"))
        placed = _placements_dated(first + datetime.timedelta(days=1))
        _contacts(rng, first, today, placed)
        lines = _promises_kept_and_broken(rng, today) + _agency_payments(rng, today, placed)
    lines_refresh(line_ids=lines, as_of=today)
    PeopleDay.objects.all().delete()
    return sum(people_write(day=first + datetime.timedelta(days=n)) for n in range(days))


def _cases_dated_by_their_nights() -> None:
    for day in Case.objects.order_by().values_list("opened_on", flat=True).distinct():
        Case.objects.filter(opened_on=day).update(opened_at=_at(day, 0, 10))
    for run in DunningRun.objects.all():
        closed = CaseTransition.objects.filter(run=run, to_stage__in=FINAL_STAGES).values("case_id")
        Case.objects.filter(pk__in=closed).update(closed_at=_at(run.as_of, 0, 10))


def _placements_dated(day: datetime.date) -> dict[int, tuple[datetime.datetime, int]]:
    """Place the demo agency's cases on ``day`` at 10:00 (the assignee let go then); return case → (when, line)."""
    placed = {}
    for placement in Placement.objects.filter(recalled_at__isnull=True).select_related("case"):
        when = max(_at(day, 10), placement.case.opened_at + datetime.timedelta(hours=10))
        Placement.objects.filter(pk=placement.pk).update(placed_at=when)
        placement.case.assignments.filter(assigned_to__isnull=True).update(assigned_at=when)
        placed[placement.case_id] = (when, placement.case.credit_line_id)
    return placed


def _contacts(rng: random.Random, first: datetime.date, today: datetime.date, placed: dict) -> None:
    agency_user = User.objects.filter(agency_membership__isnull=False).order_by("pk").first()
    rows = []
    cases = Case.objects.open().exclude(assignee__isnull=True, agency__isnull=True).order_by("pk")
    for index, case in enumerate(cases.values_list("pk", "assignee_id", "opened_at")):
        case_id, assignee, opened_at = case
        if index % NEVER_CONTACTED_EVERY == 0:
            continue
        since = placed[case_id][0] if case_id in placed else opened_at
        start = max(first, since.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date() + datetime.timedelta(days=1))
        agent = agency_user.pk if case_id in placed and agency_user else assignee
        for _n in range(rng.randint(1, 4)):
            if start >= today:
                break
            day = start + datetime.timedelta(days=rng.randrange((today - start).days))
            outcome = rng.choices([o for o, _w in OUTCOMES], weights=[w for _o, w in OUTCOMES])[0]
            when = _at(day, rng.randint(9, 19), rng.randint(0, 59))
            rows.append(_contact(case_id, agent, outcome, when))
    created = Contact.objects.bulk_create(rows)
    Contact.objects.filter(pk__in=[row.pk for row in created]).update(recorded_at=F("occurred_at"))
    latest = Contact.objects.filter(case=OuterRef("pk")).order_by().values("case").annotate(at=Max("occurred_at"))
    Case.objects.filter(contacts__isnull=False).distinct().update(last_contact_at=Subquery(latest.values("at")[:1]))


def _contact(case_id: int, agent: int | None, outcome: str, when: datetime.datetime) -> Contact:
    return Contact(
        case_id=case_id,
        channel=ContactChannel.CALL,
        outcome=outcome,
        phone_number="13800138000",
        identity_disclosed=True,
        occurred_at=when,
        customer_local_date=when.date(),
        agent_id=agent,
    )


def _promises_kept_and_broken(rng: random.Random, today: datetime.date) -> list[int]:
    """Record a promise at each promise-to-pay call; about half are paid by their date. Return the lines paid on."""
    lines = []
    calls = Contact.objects.filter(outcome=ContactOutcome.PROMISE, agent__isnull=False).select_related("case")
    for call in calls.order_by("pk"):
        made_on = call.occurred_at.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()
        due = made_on + datetime.timedelta(days=rng.randint(2, 6))
        amount = max(min(call.case.balance_fen, rng.randint(200, 1500) * 100), 100)
        promise = Promise.objects.create(
            case=call.case,
            amount_fen=amount,
            due_date=due,
            grace_until=due + datetime.timedelta(days=2),
            created_by_id=call.agent_id,
            created_at=call.occurred_at,
        )
        if rng.random() < 0.5 and due < today:
            paid_at = _at(due - datetime.timedelta(days=rng.randint(0, 1)), 14)
            _paid(call.case.credit_line, f"DEMO-PROMISE-{promise.pk}", amount, max(paid_at, call.occurred_at))
            lines.append(call.case.credit_line_id)
    return lines


def _paid(line: object, reference: str, amount_fen: int, when: datetime.datetime) -> Payment:
    payment = payment_post(
        credit_line=line,
        external_reference=reference,
        amount=Decimal(amount_fen) / 100,
        channel="alipay",
        received_at=when,
    )
    Payment.objects.filter(pk=payment.pk).update(recorded_at=when)
    return payment


def _agency_payments(rng: random.Random, today: datetime.date, placed: dict) -> list[int]:
    """Let the agency collect part of its cases' balance, and one of its payments bounce days later."""
    lines, bounced = [], False
    for case in Case.objects.filter(pk__in=list(placed)).select_related("credit_line").order_by("pk"):
        since = placed[case.pk][0]
        for number in range(2):
            when = since + datetime.timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 6))
            if when.date() >= today:
                continue
            amount = max(case.balance_fen * rng.randint(10, 25) // 100, 100)
            payment = _paid(case.credit_line, f"DEMO-AGENCY-{case.pk}-{number}", amount, when)
            lines.append(case.credit_line_id)
            back = when + datetime.timedelta(days=3)
            if not bounced and back.date() < today:
                reversal = payment_reverse(
                    payment=payment,
                    external_reference=f"DEMO-BOUNCE-{case.pk}",
                    reason="bounced",
                    reversed_at=back,
                    actor=None,
                )
                Payment.objects.filter(pk=reversal.pk).update(recorded_at=back)
                bounced = True
    return lines
