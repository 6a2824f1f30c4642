"""Flow rates by the team and agency that held a line at the previous month end, from the night's positions."""

import datetime

import pytest
import time_machine

from backoffice.reports.models import FlowCell, MonthEndPosition
from cases.models import Agency, Case, Team
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
JAN, FEB = datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)


def night(run_dunning, day: datetime.date):
    with time_machine.travel(datetime.datetime.combine(day, datetime.time(0, 10), tzinfo=SHANGHAI), tick=False):
        return run_dunning(day)


@pytest.fixture
def held(run_dunning, agent):
    """Two lines in M1 at the end of January: one worked by the reminder team's agent, one placed with an agency."""
    team = Team.objects.create(name="提醒组", stage="reminder")
    team.members.add(agent)
    agency = Agency.objects.create(
        name="外包一号",
        status="approved",
        contract_start=datetime.date(2026, 1, 1),
        contract_end=datetime.date(2026, 12, 31),
    )
    worked = overdue_line(due=datetime.date(2026, 1, 20), principal_fen=100_000)
    placed = overdue_line(due=datetime.date(2026, 1, 21), principal_fen=30_000)
    night(run_dunning, JAN - datetime.timedelta(days=1))
    Case.objects.filter(credit_line=worked).update(assignee=agent)
    Case.objects.filter(credit_line=placed).update(assignee=None, agency=agency)
    night(run_dunning, JAN)
    night(run_dunning, FEB)
    return {"team": team, "agency": agency, "worked": worked, "placed": placed}


def test_the_month_end_position_keeps_who_held_the_line(held):
    positions = {p.credit_line_id: (p.team_id, p.agency_id) for p in MonthEndPosition.objects.filter(month_end=JAN)}
    assert positions == {held["worked"].pk: (held["team"].pk, 0), held["placed"].pk: (0, held["agency"].pk)}
    cells = set(FlowCell.objects.filter(month_end=FEB).values_list("team_id", "agency_id", "from_bucket", "lines"))
    assert cells == {(held["team"].pk, 0, "M1", 1), (0, held["agency"].pk, "M1", 1)}


def test_the_flow_matrix_filters_by_the_team_and_by_the_agency_that_held_the_lines(held, built):
    def m1_held(**query):
        tables, _result = built("flow-rates", month="2026-02", **query)
        return next(row for row in tables["by-count"].rows if row[0] == "M1")[1]

    assert m1_held() == 2
    assert m1_held(team=str(held["team"].pk)) == 1
    assert m1_held(agency=str(held["agency"].pk)) == 1


def test_the_reports_without_a_team_filter_say_why(client, supervisor):
    client.force_login(supervisor)
    for name in ("entry-rate", "vintage"):
        html = client.get(f"/admin/reports/{name}/").content.decode()
        assert 'id="filters-note"' in html
        assert 'name="team"' not in html
    html = client.get("/admin/reports/flow-rates/").content.decode()
    assert 'name="team"' in html
    assert 'name="agency"' in html
