"""The compliance report on a hand-made day: incidents, refused contacts, stopped messages and reveals, counted
by the night once, each count worked out by hand, and the lists behind the counts."""

import datetime
import urllib.parse
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts.services import customer_reveal
from backoffice.kernel.roles import AGENCY
from backoffice.reports.aggregate import reports_aggregate
from backoffice.reports.compliance_models import ComplianceDay
from backoffice.reports.tables import Linked
from cases.agencies.services import case_place
from cases.choices import MessageStatus
from cases.contacts.services import contact_log
from cases.models import Agency, AgencyMember, Case, ComplianceIncident, Contact, ContactRefusal, Message, Team
from tests.factories import CreditLineFactory, overdue_line, user_in

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 3, 1)
NIGHT = DAY + datetime.timedelta(days=1)  # the night of 2 March counts 1 March


def at(day: datetime.date, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute, second), tzinfo=SHANGHAI)


def incident(case: Case, agent, rule: str, opened_at: datetime.datetime) -> ComplianceIncident:
    contact = Contact.objects.create(
        case=case,
        channel="call",
        outcome="connected",
        agent=agent,
        occurred_at=opened_at,
        customer_local_date=opened_at.date(),
    )
    made = ComplianceIncident.objects.create(contact=contact, rule=rule, message="—")
    ComplianceIncident.objects.filter(pk=made.pk).update(opened_at=opened_at)
    return made


def message(line, planned_for: datetime.date, status: str, stop_rule: str = "", case=None, channel="sms") -> Message:
    return Message.objects.create(
        customer=line.customer,
        credit_line=line,
        case=case,
        kind="overdue" if case else "before_due",
        channel=channel,
        template_code="t",
        planned_for=planned_for,
        due_at=at(planned_for, 10),
        status=status,
        stop_rule=stop_rule,
        created_at=at(planned_for, 1),
    )


@pytest.fixture
def day(run_dunning, agent):
    """One day of compliance events, with a few just outside it.

    ``agent`` works case one in the collection team; case two is placed with an agency whose collector
    works it. Incidents: case one, two outside the window and one identity not disclosed; case two, one
    daily cap. The agent then tries a fourth connected call of the day on case one, without saying who they
    act for: refused by two rules (identity not disclosed, daily cap), one row each. Messages stopped: case
    one's (do not contact) and a current line's (consent withdrawn). Reveals: the agent two mobiles and one
    ID number, the collector one mobile.
    """
    one, two = overdue_line(due=datetime.date(2026, 1, 10)), overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(DAY)
    team = Team.objects.create(name="催收一组", stage="collection")
    team.members.add(agent)
    agency = Agency.objects.create(
        name="外包一号",
        status="approved",
        contract_start=datetime.date(2026, 1, 1),
        contract_end=datetime.date(2026, 12, 31),
    )
    collector = user_in(AGENCY, "collector")
    AgencyMember.objects.create(user=collector, agency=agency)
    case_one, case_two = Case.objects.get(credit_line=one), Case.objects.get(credit_line=two)
    Case.objects.filter(pk=case_one.pk).update(assignee=agent)
    Case.objects.filter(pk=case_two.pk).update(agency=agency)
    outside = [
        incident(case_one, agent, "CONTACT_OUTSIDE_WINDOW", at(DAY, 0)),
        incident(case_one, agent, "CONTACT_OUTSIDE_WINDOW", at(DAY, 23, 59, 59)),
    ]
    incident(case_one, agent, "IDENTITY_NOT_DISCLOSED", at(DAY, 12))
    incident(case_two, collector, "DAILY_CONTACT_CAP", at(DAY, 15))
    incident(case_one, agent, "CONTACT_OUTSIDE_WINDOW", at(DAY, 0) - datetime.timedelta(seconds=1))  # 28 Feb
    incident(case_one, agent, "CONTACT_OUTSIDE_WINDOW", at(NIGHT, 0))  # 2 March
    with time_machine.travel(at(DAY, 10), tick=False):
        with pytest.raises(ValidationError):
            contact_log(
                case=Case.objects.get(pk=case_one.pk),
                actor=agent,
                channel="call",
                outcome="connected",
                phone_number="13800000000",
                identity_disclosed=False,
            )
        for field in ("mobile", "mobile", "national_id"):
            customer_reveal(customer=one.customer, actor=agent, field=field, reason="客户来电核实身份")
        customer_reveal(customer=two.customer, actor=collector, field="mobile", reason="客户来电核实身份")
    current = CreditLineFactory()
    message(one, DAY, MessageStatus.STOPPED, "DO_NOT_CONTACT", case=case_one)
    message(current, DAY, MessageStatus.STOPPED, "CONSENT_WITHDRAWN")
    message(current, DAY, MessageStatus.DELIVERED, channel="email")
    message(two, DAY - datetime.timedelta(days=1), MessageStatus.STOPPED, "DO_NOT_CONTACT", case=case_two)
    reports_aggregate(as_of=NIGHT)
    return {"team": team, "agency": agency, "collector": collector, "outside": outside, "case_one": case_one}


def test_a_refused_contact_is_recorded_with_each_rule_it_broke_and_nothing_of_the_contact(day, agent):
    refusals = ContactRefusal.objects.order_by("rule")
    assert [(r.rule, r.agent, r.case_id, r.channel) for r in refusals] == [
        ("DAILY_CONTACT_CAP", agent, day["case_one"].pk, "call"),
        ("IDENTITY_NOT_DISCLOSED", agent, day["case_one"].pk, "call"),
    ]
    assert not Contact.objects.filter(case=day["case_one"], occurred_at=at(DAY, 10)).exists()


def test_the_night_counts_the_day_by_kind_rule_agent_team_and_agency(day, agent):
    team, agency, collector = day["team"].pk, day["agency"].pk, day["collector"].pk
    rows = {
        (r.kind, r.rule, r.user_id, r.team_id, r.agency_id): r.events for r in ComplianceDay.objects.filter(as_of=DAY)
    }
    assert rows == {
        ("incident", "CONTACT_OUTSIDE_WINDOW", agent.pk, team, 0): 2,
        ("incident", "IDENTITY_NOT_DISCLOSED", agent.pk, team, 0): 1,
        ("incident", "DAILY_CONTACT_CAP", collector, 0, agency): 1,
        ("refused", "IDENTITY_NOT_DISCLOSED", agent.pk, team, 0): 1,
        ("refused", "DAILY_CONTACT_CAP", agent.pk, team, 0): 1,
        ("stopped", "DO_NOT_CONTACT", 0, team, 0): 1,
        ("stopped", "CONSENT_WITHDRAWN", 0, 0, 0): 1,
        ("reveal", "mobile", agent.pk, 0, 0): 2,
        ("reveal", "national_id", agent.pk, 0, 0): 1,
        ("reveal", "mobile", collector, 0, agency): 1,
    }
    assert not ComplianceDay.objects.exclude(as_of=DAY).exists()


def test_a_second_night_for_the_same_date_changes_nothing(day):
    before = list(ComplianceDay.objects.order_by("pk").values())
    assert reports_aggregate(as_of=NIGHT) == 0
    assert list(ComplianceDay.objects.order_by("pk").values()) == before


def table_rows(table) -> list[list[object]]:
    return [[cell.value if isinstance(cell, Linked) else cell for cell in row] for row in table.rows]


def test_the_report_counts_by_rule_with_stopped_messages_in_their_own_rows(day, built):
    tables, result = built("compliance", **{"from": "2026-03-01", "to": "2026-03-01"})
    assert [[str(cell) for cell in row] for row in table_rows(tables["by-rule"])] == [
        ["CONTACT_OUTSIDE_WINDOW", "Incidents", "2"],
        ["DAILY_CONTACT_CAP", "Incidents", "1"],
        ["IDENTITY_NOT_DISCLOSED", "Incidents", "1"],
        ["DAILY_CONTACT_CAP", "Contacts refused", "1"],
        ["IDENTITY_NOT_DISCLOSED", "Contacts refused", "1"],
        ["CONSENT_WITHDRAWN", "Messages stopped", "1"],
        ["DO_NOT_CONTACT", "Messages stopped", "1"],
    ]
    assert [row[2] for row in tables["by-rule"].footer] == [4, 2, 2]
    chart = result.charts[0].spec
    assert chart["labels"] == [
        "CONSENT_WITHDRAWN",
        "CONTACT_OUTSIDE_WINDOW",
        "DAILY_CONTACT_CAP",
        "DO_NOT_CONTACT",
        "IDENTITY_NOT_DISCLOSED",
    ]
    assert [dataset["data"] for dataset in chart["datasets"]] == [[0, 2, 1, 0, 1], [0, 0, 1, 0, 1], [1, 0, 0, 1, 0]]


def test_the_report_counts_by_agent_and_agency_and_reveals_by_user(day, built, agent):
    tables, _result = built("compliance", **{"from": "2026-03-01", "to": "2026-03-01"})
    assert table_rows(tables["by-agent"]) == [
        [agent.username, "催收一组", "in house", 3, 2],
        ["collector", "—", "外包一号", 1, 0],
    ]
    assert table_rows(tables["reveals"]) == [
        [agent.username, "in house", 2, 1, 3],
        ["collector", "外包一号", 1, 0, 1],
    ]


def test_the_team_and_agency_filters_keep_their_own_events(day, built):
    span = {"from": "2026-02-01", "to": "2026-03-31"}
    tables, _result = built("compliance", team=str(day["team"].pk), **span)
    assert [row[2] for row in tables["by-rule"].footer] == [3, 2, 1]  # case one's incidents, refusals and message
    assert tables["reveals"].rows == []  # a reveal is of a customer, not of a team's case
    tables, _result = built("compliance", agency=str(day["agency"].pk), **span)
    assert [row[2] for row in tables["by-rule"].footer] == [1, 0, 0]
    assert table_rows(tables["reveals"]) == [["collector", "外包一号", 1, 0, 1]]


def listed(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {row.pk for row in response.context["cl"].result_list}


def test_each_count_leads_to_exactly_the_records_behind_it(day, built, client, supervisor, agent):
    tables, _result = built("compliance", **{"from": "2026-03-01", "to": "2026-03-01"})
    client.force_login(supervisor)
    by_rule = {(row[0], str(row[1])): row[2] for row in tables["by-rule"].rows}
    outside = by_rule[("CONTACT_OUTSIDE_WINDOW", "Incidents")]
    assert listed(client, outside.url) == {made.pk for made in day["outside"]}
    refused = by_rule[("IDENTITY_NOT_DISCLOSED", "Contacts refused")]
    assert listed(client, refused.url) == {ContactRefusal.objects.get(rule="IDENTITY_NOT_DISCLOSED").pk}
    stopped = by_rule[("DO_NOT_CONTACT", "Messages stopped")]
    assert listed(client, stopped.url) == {Message.objects.get(stop_rule="DO_NOT_CONTACT", planned_for=DAY).pk}
    agents_incidents = tables["by-agent"].rows[0][3]
    assert len(listed(client, agents_incidents.url)) == 3
    assert len(listed(client, tables["by-agent"].rows[0][4].url)) == 2
    reveals = tables["reveals"].rows[0][4]
    assert len(listed(client, reveals.url)) == 3
    query = urllib.parse.parse_qs(urllib.parse.urlparse(outside.url).query)
    assert query["opened_at__gte"] == ["2026-03-01T00:00:00+08:00"]


def test_under_a_product_filter_a_count_has_no_link_rather_than_a_wrong_one(day, built):
    product = day["case_one"].credit_line.product_id
    tables, _result = built("compliance", product=str(product), **{"from": "2026-03-01", "to": "2026-03-01"})
    assert tables["by-rule"].rows
    assert not any(isinstance(cell, Linked) for row in tables["by-rule"].rows for cell in row)


def test_the_compliance_page_draws_its_chart_beside_its_table_and_exports(day, client, supervisor):
    client.force_login(supervisor)
    url = reverse("report", args=["compliance"])
    html = client.get(url, {"from": "2026-03-01", "to": "2026-03-01"}).content.decode()
    assert 'id="table-by-rule"' in html
    assert 'id="compliance-chart-data"' in html
    assert "Reveals: each time a user saw" in html
    response = client.get(url, {"from": "2026-03-01", "to": "2026-03-01", "format": "csv"})
    assert "CONTACT_OUTSIDE_WINDOW,Incidents,2" in response.content.decode("utf-8")


def test_the_compliance_report_speaks_chinese(day, client, supervisor):
    client.force_login(supervisor)
    with translation.override("en"):  # the request switches this thread to Chinese; later tests read English
        html = client.get(reverse("report", args=["compliance"]), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "合规" in html
    assert "查看个人信息" in html


def test_a_placement_refused_for_an_agency_not_approved_is_counted_as_a_refused_contact(run_dunning, supervisor):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(DAY)
    case = Case.objects.get(credit_line=line)
    pending = Agency.objects.create(
        name="待审核",
        status="pending",
        contract_start=datetime.date(2026, 1, 1),
        contract_end=datetime.date(2026, 12, 31),
    )
    with time_machine.travel(at(DAY, 11), tick=False), pytest.raises(ValidationError, match="AGENCY_NOT_APPROVED"):
        case_place(case=case, agency=pending, actor=supervisor, today=DAY)
    reports_aggregate(as_of=NIGHT)
    refused = ComplianceDay.objects.filter(as_of=DAY, kind="refused")
    assert [(r.rule, r.user_id, r.team_id, r.agency_id, r.events) for r in refused] == [
        ("AGENCY_NOT_APPROVED", supervisor.pk, 0, 0, 1)
    ]
