"""A hand-made portfolio for the people reports: helpers to travel to an hour, run a night and pay."""

import datetime

import time_machine

from accounts.services import payment_post
from backoffice.reports.models import PeopleDay

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
MARCH_1, MARCH_10 = datetime.date(2026, 3, 1), datetime.date(2026, 3, 10)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


def night(run_dunning, day: datetime.date):
    with time_machine.travel(at(day, 0, 10), tick=False):
        return run_dunning(day)


def pay(line, reference: str, amount: str, when: datetime.datetime, *, recorded: datetime.datetime | None = None):
    with time_machine.travel(recorded or when, tick=False):
        return payment_post(
            credit_line=line, external_reference=reference, amount=amount, channel="alipay", received_at=when
        )


def rows(day: datetime.date) -> dict[tuple[int, int, int], dict[str, int]]:
    found = {}
    for row in PeopleDay.objects.filter(day=day):
        figures = {
            name: getattr(row, name)
            for name in ("cases_in_hand", "taken_in", "collected_fen", "reversed_fen", "contacts", "promises_made")
            if getattr(row, name)
        }
        found[(row.agent_id, row.team_id, row.agency_id)] = figures
    return found
