"""The people report and the agency commission statement: definitions on hand-made rows, the drill-down to exactly
the cases behind a figure, and commission net of reversals as the README's *Payment reversals* says."""

import datetime
import urllib.parse
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Payment
from accounts.services import payment_reverse
from backoffice.kernel.roles import AGENT
from backoffice.reports.models import PeopleDay
from backoffice.reports.tables import Linked, Money, Share
from cases.agencies.services import case_recall
from cases.models import Case, Team
from cases.workload.services import case_assign
from tests.factories import overdue_line, user_in
from tests.reports.people_portfolio import MARCH_10, at, night

pytestmark = pytest.mark.django_db
MARCH_31, APRIL_1, APRIL_2 = datetime.date(2026, 3, 31), datetime.date(2026, 4, 1), datetime.date(2026, 4, 2)
COLUMNS = {
    "in_hand": 1,
    "assigned": 2,
    "assigned_fen": 3,
    "collected": 4,
    "recovery": 5,
    "contacts": 6,
    "per_case": 7,
    "right_party": 8,
    "right_party_rate": 9,
    "never": 10,
    "gap": 11,
    "first": 12,
    "hours": 13,
    "made": 14,
    "due": 15,
    "kept": 16,
    "kept_rate": 17,
}


def people_day(day, product, agent, *, team=0, agency=0, **figures):
    PeopleDay.objects.create(day=day, product_id=product.pk, agent_id=agent, team_id=team, agency_id=agency, **figures)


def plain(cell):
    return cell.value if isinstance(cell, Linked) else cell


@pytest.fixture
def desk(product):
    """Two agents of one team over 1–2 April, with what they held on 31 March."""
    one, two = user_in(AGENT, "agent-one"), user_in(AGENT, "agent-two")
    team = Team.objects.create(name="Collection", stage="collection")
    people_day(MARCH_31, product, one.pk, team=team.pk, cases_in_hand=4, in_hand_fen=400_000)
    people_day(
        APRIL_1,
        product,
        one.pk,
        team=team.pk,
        taken_in=1,
        taken_in_fen=100_000,
        collected_fen=50_000,
        reversed_fen=-10_000,
        contacts=6,
        right_party_contacts=3,
        first_contacts=1,
        first_contact_seconds=7_200,
        promises_made=2,
        cases_in_hand=5,
        in_hand_fen=450_000,
        never_contacted=1,
    )
    people_day(
        APRIL_2,
        product,
        one.pk,
        team=team.pk,
        collected_fen=20_000,
        contacts=4,
        right_party_contacts=1,
        first_contacts=1,
        first_contact_seconds=14_400,
        promises_due=2,
        promises_kept=1,
        cases_in_hand=5,
        in_hand_fen=420_000,
        never_contacted=2,
    )
    people_day(APRIL_1, product, two.pk, team=team.pk, taken_in=2, taken_in_fen=200_000, cases_in_hand=2)
    people_day(APRIL_2, product, two.pk, team=team.pk, collected_fen=40_000, contacts=2, cases_in_hand=2)
    # Outside the range: never counted.
    people_day(datetime.date(2026, 4, 3), product, one.pk, team=team.pk, collected_fen=999_999)
    return {"one": one, "two": two, "team": team}


def test_each_agents_figures_divide_sums_over_the_range(desk, built):
    tables, _result = built("people", **{"from": "2026-04-01", "to": "2026-04-02"})
    row = {r[0]: r for r in tables["people"].rows}["agent-one"]
    cell = {name: plain(row[index]) for name, index in COLUMNS.items()}
    # In hand 4 on 31 March, 1 taken in: 5 cases and ¥5,000 assigned; ¥500 − ¥100 + ¥200 collected.
    assert (cell["in_hand"], cell["assigned"], cell["assigned_fen"]) == (5, 5, Money(500_000))
    assert cell["collected"] == Money(60_000)
    assert cell["recovery"].ratio == Decimal("0.1200")
    assert (cell["contacts"], cell["per_case"]) == (10, Decimal("2.00"))
    assert cell["right_party_rate"] == Share(4, 10)
    # Coverage reads the last day's hand: 2 of 5 never contacted.
    assert (cell["never"], cell["gap"]) == (2, Share(2, 5))
    # (2 h + 4 h) over 2 first contacts.
    assert (cell["first"], cell["hours"]) == (2, Decimal("3.0"))
    assert (cell["made"], cell["due"], cell["kept"], cell["kept_rate"]) == (2, 2, 1, Share(1, 2))


def test_a_team_sums_its_agents_before_dividing(desk, built):
    tables, _result = built("people", **{"from": "2026-04-01", "to": "2026-04-02", "group_by": "team_id"})
    (row,) = tables["people"].rows
    # ¥600 + ¥400 over ¥5,000 + ¥2,000 assigned, not the mean of 12% and 20%.
    assert plain(row[COLUMNS["recovery"]]) == Share(100_000, 700_000)
    assert plain(row[COLUMNS["per_case"]]) == Decimal("1.71")  # 12 contacts over 7 cases
    assert tables["people"].footer[0][COLUMNS["in_hand"]] == 7


def test_the_filters_keep_their_rows_only(desk, built, product):
    query = {"from": "2026-04-01", "to": "2026-04-02", "product": str(product.pk), "team": str(desk["team"].pk)}
    tables, _result = built("people", **query)
    assert len(tables["people"].rows) == 2
    other = Team.objects.create(name="Legal", stage="legal")
    tables, result = built("people", **{**query, "team": str(other.pk)})
    assert tables["people"].rows == []
    assert result.charts[0].spec["labels"] == []


def case_list(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return {case.pk for case in response.context["cl"].result_list}


@pytest.fixture
def second_case(worked_case, supervisor):
    """Another case, agent B's from 10:00 on 10 March."""
    line = overdue_line(due=datetime.date(2026, 2, 21), principal_fen=80_000)
    case = Case.objects.create(
        credit_line=line,
        customer_id=line.customer_id,
        stage="reminder",
        days_past_due=17,
        balance_fen=80_000,
        opened_on=datetime.date(2026, 3, 1),
        opened_at=at(datetime.date(2026, 3, 1), 0, 10),
    )
    with time_machine.travel(at(MARCH_10, 10), tick=False):
        case_assign(case=case, actor=supervisor, assignee=worked_case["b"])
    return case


def test_each_count_leads_to_exactly_the_cases_behind_it(
    run_dunning, worked_case, second_case, client, supervisor, built
):
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    day = {"from": "2026-03-10", "to": "2026-03-10"}
    tables, _result = built("people", **day)
    row = {r[0]: r for r in tables["people"].rows}["agent-b"]
    assert (plain(row[COLUMNS["in_hand"]]), plain(row[COLUMNS["collected"]])) == (1, Money(5_000))
    client.force_login(supervisor)
    first, second = worked_case["case"].pk, second_case.pk
    # B collected on the first case (11:00–14:00) and holds the second at the day's end, never contacted.
    assert case_list(client, row[COLUMNS["collected"]].url) == {first}
    assert case_list(client, row[COLUMNS["in_hand"]].url) == {second}
    assert case_list(client, row[COLUMNS["never"]].url) == {second}
    # B took the second at 10:00 and the first at 11:00, which went to the agency, with no agent, at 14:00.
    assert row[COLUMNS["assigned"]].value == 1
    assert case_list(client, row[COLUMNS["assigned"]].url) == {second}
    tables, _result = built("people", **day, group_by="agency_id")
    agency = {r[0]: r for r in tables["people"].rows}[worked_case["agency"].name]
    assert case_list(client, agency[COLUMNS["in_hand"]].url) == {first}
    assert case_list(client, agency[COLUMNS["collected"]].url) == {first}
    assert agency[COLUMNS["assigned"]].value == 1
    assert case_list(client, agency[COLUMNS["assigned"]].url) == {first}


def test_cases_assigned_lead_to_the_cases_in_hand_the_day_before_and_those_taken_in_the_range(
    run_dunning, worked_case, second_case, client, supervisor, built, agent
):
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    third_line = overdue_line(due=datetime.date(2026, 2, 22), principal_fen=60_000)
    night(run_dunning, MARCH_10 + datetime.timedelta(days=2))
    third = Case.objects.get(credit_line=third_line)
    with time_machine.travel(at(MARCH_10 + datetime.timedelta(days=2), 9), tick=False):
        case_assign(case=third, actor=supervisor, assignee=worked_case["b"])
        case_assign(case=Case.objects.get(pk=second_case.pk), actor=supervisor, assignee=agent)
    night(run_dunning, MARCH_10 + datetime.timedelta(days=3))
    tables, _result = built("people", **{"from": "2026-03-11", "to": "2026-03-12"})
    row = {r[0]: r for r in tables["people"].rows}["agent-b"]
    client.force_login(supervisor)
    # B held the second at the end of 10 March and took the third on 12 March, when the second went to A.
    assert row[COLUMNS["assigned"]].value == 2
    assert case_list(client, row[COLUMNS["assigned"]].url) == {second_case.pk, third.pk}
    mine = {r[0]: r for r in tables["people"].rows}[agent.username]
    assert mine[COLUMNS["assigned"]].value == 1
    assert case_list(client, mine[COLUMNS["assigned"]].url) == {second_case.pk}


def test_a_malformed_drill_down_is_refused_as_the_admin_refuses_a_bad_lookup(client, supervisor):
    client.force_login(supervisor)
    changelist = reverse("admin:cases_case_changelist")
    for query in (
        {"people": "in_hand", "holder": "x1", "people_from": "2026-03-01", "people_to": "2026-03-01"},
        {"people": "in_hand", "holder": "a1", "people_from": "2026-03-01", "people_to": "March"},
        {"people": "nonsense", "holder": "a1", "people_from": "2026-03-01", "people_to": "2026-03-01"},
    ):
        response = client.get(f"{changelist}?{urllib.parse.urlencode(query)}")
        assert response.status_code == 302
        assert response.url.endswith("?e=1")


def test_commission_is_earned_on_net_collections_and_a_later_reversal_is_clawed_back_in_its_month(
    run_dunning, worked_case, built, supervisor
):
    agency = worked_case["agency"]
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    # The case comes back on 2 April; on 5 April the ¥30 the agency collected in March bounces.
    with time_machine.travel(at(APRIL_2, 10), tick=False):
        case_recall(case=Case.objects.get(pk=worked_case["case"].pk), actor=supervisor, reason="Back in house")
    april_5 = datetime.date(2026, 4, 5)
    with time_machine.travel(at(april_5, 11), tick=False):
        payment_reverse(
            payment=Payment.objects.get(external_reference="P-G"),
            external_reference="R-G",
            reason="charged_back",
            reversed_at=at(april_5, 11),
            actor=None,
        )
    night(run_dunning, april_5 + datetime.timedelta(days=1))
    tables, _result = built("commission", month="2026-03")
    (march,) = tables["statement"].rows
    # ¥30 at 10%: ¥3.00, and March's statement stays as it was.
    assert [plain(cell) for cell in march] == [
        agency.name,
        Money(3_000),
        Money(0),
        Money(3_000),
        Decimal("10.00"),
        Money(300),
    ]
    assert case_list_of(march[1]) == {"people": "collected", "holder": f"g{agency.pk}", "people_to": "2026-03-31"}
    tables, _result = built("commission", month="2026-04", agency=str(agency.pk))
    (april,) = tables["statement"].rows
    # April: nothing collected, ¥30 taken back for the agency that held the case in March, and its ¥3.00 with it.
    assert [plain(cell) for cell in april[1:4]] == [Money(0), Money(-3_000), Money(-3_000)]
    assert april[5] == Money(-300)
    assert [row[0] for row in tables["by-day"].rows] == ["2026-04-05"]


def test_the_statement_applies_the_rate_in_force_at_the_months_end(worked_case, run_dunning, built):
    agency = worked_case["agency"]
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    with time_machine.travel(at(datetime.date(2026, 4, 10), 9), tick=False):
        agency.commission_rate = Decimal("20.00")
        agency.save()
    tables, _result = built("commission", month="2026-03")
    assert tables["statement"].rows[0][4:] == [Decimal("10.00"), Money(300)]


def case_list_of(cell):
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(cell.url).query))
    return {key: query[key] for key in ("people", "holder", "people_to")}


def test_the_commission_statement_exports_as_csv(worked_case, run_dunning, client, supervisor):
    night(run_dunning, MARCH_10 + datetime.timedelta(days=1))
    client.force_login(supervisor)
    response = client.get(reverse("report", args=["commission"]), {"month": "2026-03", "format": "csv"})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert f"{worked_case['agency'].name},30.00,0.00,30.00,10.00,3.00" in text
