import datetime

import pytest
import time_machine

from accounts.services import payment_reverse
from backoffice.kernel.roles import AGENCY, AGENT
from backoffice.reports.forms import ReportFilterForm
from backoffice.reports.registry import REPORTS
from cases.agencies.services import case_place
from cases.choices import AgencyStatus
from cases.models import Agency, Case, Team
from cases.workload.services import case_assign
from tests.factories import ProductFactory, overdue_line, user_in
from tests.reports.people_portfolio import MARCH_1, MARCH_10, at, night, pay


@pytest.fixture
def agency_user(db):
    return user_in(AGENCY, "agency-r")


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def built():
    """Build a report from query-string values, as its page does."""

    def build(name: str, **query: str):
        form = ReportFilterForm(query, filters=REPORTS[name].filters)
        assert form.is_valid(), form.errors
        result = REPORTS[name].build(form.filters())
        return {table.key: table for table in result.tables}, result

    return build


@pytest.fixture
def agency(db):
    # Created (and its history begun) at the start of its contract.
    with time_machine.travel(at(datetime.date(2026, 1, 1), 9), tick=False):
        return Agency.objects.create(
            name="华信",
            status=AgencyStatus.APPROVED,
            contract_start=datetime.date(2026, 1, 1),
            contract_end=datetime.date(2026, 12, 31),
            commission_rate="10.00",
        )


@pytest.fixture
def worked_case(run_dunning, agent, supervisor, agency):
    """A case opened on 1 March; on 10 March agent A, then B, then the agency hold it, and money comes in each time.

    08:00 A takes it; 09:00 ¥100 paid; 11:00 B takes it; 12:00 ¥50 paid; 14:00 placed with the agency;
    15:00 ¥30 paid; 16:00 the ¥100 of 09:00 bounces.
    """
    line = overdue_line(due=datetime.date(2026, 2, 20), principal_fen=100_000)
    night(run_dunning, MARCH_1)
    case = Case.objects.get(credit_line=line)
    other = user_in(AGENT, "agent-b")
    reminders = Team.objects.create(name="Reminders", stage="reminder")
    reminders.members.set([agent])
    with time_machine.travel(at(MARCH_10, 8), tick=False):
        case_assign(case=case, actor=supervisor, assignee=agent)
    first = pay(line, "P-A", "100.00", at(MARCH_10, 9))
    with time_machine.travel(at(MARCH_10, 11), tick=False):
        case_assign(case=case, actor=supervisor, assignee=other)
    pay(line, "P-B", "50.00", at(MARCH_10, 12))
    with time_machine.travel(at(MARCH_10, 14), tick=False):
        case_place(case=Case.objects.get(pk=case.pk), agency=agency, actor=supervisor, today=MARCH_10)
    pay(line, "P-G", "30.00", at(MARCH_10, 15))
    with time_machine.travel(at(MARCH_10, 16), tick=False):
        payment_reverse(
            payment=first, external_reference="R-A", reason="bounced", reversed_at=at(MARCH_10, 16), actor=None
        )
    return {"case": case, "line": line, "a": agent, "b": other, "team": reminders, "agency": agency}
