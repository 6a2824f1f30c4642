import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.roles import AGENT, SUPERVISOR
from cases.admin import CaseAdmin
from cases.choices import Stage
from cases.models import Case, CaseAssignment, CaseTransition, DunningPolicy
from cases.workload.services import case_assign
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

DUE = datetime.date(2026, 1, 10)


@pytest.fixture
def cases(run_dunning, agent):
    lines = [overdue_line(due=DUE - datetime.timedelta(days=offset * 3)) for offset in range(30)]
    run_dunning(datetime.date(2026, 1, 20))
    Case.objects.update(assignee=agent)
    return lines


def changelist_queries(client, user, per_page, monkeypatch, query=""):
    monkeypatch.setattr(CaseAdmin, "list_per_page", per_page)
    client.force_login(user)
    url = reverse("admin:cases_case_changelist") + query
    client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in captured.captured_queries]


def test_the_case_list_runs_the_same_queries_whatever_the_page_size(client, supervisor, cases, monkeypatch):
    small, small_queries = changelist_queries(client, supervisor, 5, monkeypatch)
    large, large_queries = changelist_queries(client, supervisor, 30, monkeypatch)
    assert len(small.context["cl"].result_list) == 5
    assert len(large.context["cl"].result_list) == 30
    assert len(small_queries) == len(large_queries) <= 10
    case_table = Case._meta.db_table
    unfiltered_counts = [
        sql
        for sql in large_queries
        if "COUNT(" in sql and case_table in sql and "WHERE" not in sql and "LIMIT" not in sql
    ]
    assert unfiltered_counts == []


def test_filters_narrow_the_list_by_stage_and_dpd_bucket(client, supervisor, cases, monkeypatch):
    response, _queries = changelist_queries(
        client, supervisor, 100, monkeypatch, f"?stage={Stage.COLLECTION}&dpd=31-60"
    )
    shown = response.context["cl"].result_list
    assert shown
    assert all(case.stage == Stage.COLLECTION and 31 <= case.days_past_due <= 60 for case in shown)


def test_search_finds_a_case_by_number_and_by_the_last_four_of_the_id(client, supervisor, cases, monkeypatch):
    case = Case.objects.with_customer().first()
    by_number, _q = changelist_queries(client, supervisor, 50, monkeypatch, f"?q={case.number}")
    assert list(by_number.context["cl"].result_list) == [case]
    last_four = case.credit_line.customer.national_id[-4:]
    by_id, _q = changelist_queries(client, supervisor, 50, monkeypatch, f"?q={last_four}")
    assert case in by_id.context["cl"].result_list


def test_an_agent_and_a_supervisor_alike_see_masked_mobiles(client, agent, supervisor, cases, monkeypatch):
    customer = Case.objects.with_customer().first().credit_line.customer
    for viewer in (agent, supervisor):
        page, _q = changelist_queries(client, viewer, 50, monkeypatch)
        assert customer.masked_mobile in page.content.decode(), viewer
        assert customer.mobile not in page.content.decode(), viewer


def test_the_case_page_shows_only_the_moves_the_user_may_make(client, agent, supervisor, cases):
    case = Case.objects.filter(stage=Stage.REMINDER).first()
    url = reverse("admin:cases_case_change", args=[case.pk])
    client.force_login(agent)
    page = client.get(url).content.decode()
    assert 'data-transition="escalate_to_collection"' in page
    assert 'data-transition="hold"' in page
    assert 'data-transition="write_off"' not in page
    client.force_login(supervisor)
    supervisor_page = client.get(url).content.decode()
    assert 'data-transition="close"' in supervisor_page
    # Four eyes: even a supervisor settles or writes off only through a proposal someone else approves.
    assert 'data-transition="write_off"' not in supervisor_page
    assert 'data-transition="settle"' not in supervisor_page
    assert 'id="propose"' in supervisor_page


def test_a_crafted_post_to_write_off_directly_is_refused_even_for_a_supervisor(client, supervisor, cases):
    case = Case.objects.filter(stage=Stage.REMINDER).first()
    client.force_login(supervisor)
    response = client.post(reverse("admin:cases_case_move", args=[case.pk, "write_off"]), {"reason": "x"})
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).stage == Stage.REMINDER


def test_a_crafted_post_for_a_move_the_agent_lacks_is_refused(client, agent, cases):
    case = Case.objects.filter(stage=Stage.REMINDER).first()
    client.force_login(agent)
    response = client.post(reverse("admin:cases_case_move", args=[case.pk, "write_off"]), {"reason": "x"})
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).stage == Stage.REMINDER


def test_a_move_from_the_admin_goes_through_the_service_and_is_recorded(client, agent, cases):
    case = Case.objects.filter(stage=Stage.REMINDER).first()
    client.force_login(agent)
    url = reverse("admin:cases_case_move", args=[case.pk, "escalate_to_collection"])
    assert client.get(url).status_code == 200
    blank = client.post(url, {"reason": ""})
    assert blank.status_code == 200
    assert "reason" in blank.context["form"].errors
    response = client.post(url, {"reason": "三次未接通"})
    assert response.status_code == 302
    transition = CaseTransition.objects.filter(case=case).latest("id")
    assert (transition.to_stage, transition.actor, transition.reason) == (Stage.COLLECTION, agent, "三次未接通")


def test_a_hold_from_the_admin_with_a_past_date_shows_the_error_on_the_field(client, agent, cases):
    case = Case.objects.filter(stage=Stage.REMINDER).first()
    client.force_login(agent)
    url = reverse("admin:cases_case_move", args=[case.pk, "hold"])
    response = client.post(url, {"reason_code": "dispute", "note": "有异议", "until": "2020-01-01"})
    assert response.status_code == 200
    assert "2020-01-01" in str(response.context["form"].errors["until"])
    assert Case.objects.get(pk=case.pk).stage == Stage.REMINDER


def test_a_supervisors_policy_edit_applies_once_a_second_supervisor_approves_and_history_names_both(client, supervisor):
    policy = DunningPolicy.objects.get(code="fast-track")
    client.force_login(supervisor)
    url = reverse("admin:cases_dunningpolicy_change", args=[policy.pk])
    data = {
        "code": policy.code,
        "name": policy.name,
        "reminder_from_dpd": 1,
        "collection_from_dpd": 6,
        "legal_from_dpd": 15,
        "legal_min_balance_fen": 0,
        "freeze_line_on_collection": "on",
        "max_hold_days": 14,
        "promise_grace_days": 3,
        # The cadence inline, left as it is: no rule form sent, none changed.
        "reminder_rules-TOTAL_FORMS": 0,
        "reminder_rules-INITIAL_FORMS": 0,
    }
    assert client.post(url, data).status_code == 302
    assert policy.reminder_rules.count() == 5
    policy.refresh_from_db()
    assert policy.legal_from_dpd == 12
    proposal = ChangeProposal.objects.get()
    assert proposal.diff["legal_from_dpd"] == ["12", "15"]
    second = user_in(SUPERVISOR, "supervisor-second")
    client.force_login(second)
    decide = reverse("admin:backoffice_changeproposal_decide", args=[proposal.pk, "approve"])
    assert client.post(decide, {"confirm": "yes"}).status_code == 302
    latest = policy.history.latest()
    assert (latest.legal_from_dpd, latest.history_user) == (15, second)
    assert f"#{proposal.pk}" in latest.history_change_reason
    assert supervisor.username in latest.history_change_reason


def test_a_policy_with_thresholds_out_of_order_is_refused_naming_them(client, supervisor):
    policy = DunningPolicy.objects.get(code="standard")
    client.force_login(supervisor)
    url = reverse("admin:cases_dunningpolicy_change", args=[policy.pk])
    data = {
        "code": "standard",
        "name": "Standard",
        "reminder_from_dpd": 1,
        "collection_from_dpd": 70,
        "legal_from_dpd": 61,
        "legal_min_balance_fen": 0,
        "max_hold_days": 30,
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "70" in str(response.context["adminform"].form.errors)
    assert DunningPolicy.objects.get(pk=policy.pk).collection_from_dpd == 31


def test_an_agent_cannot_edit_a_policy(client, agent):
    policy = DunningPolicy.objects.get(code="standard")
    client.force_login(agent)
    url = reverse("admin:cases_dunningpolicy_change", args=[policy.pk])
    response = client.post(
        url,
        {
            "code": "standard",
            "name": "Hacked",
            "reminder_from_dpd": 1,
            "collection_from_dpd": 31,
            "legal_from_dpd": 61,
            "legal_min_balance_fen": 0,
            "max_hold_days": 30,
        },
    )
    assert response.status_code == 403
    assert DunningPolicy.objects.get(pk=policy.pk).name == "Standard"


@pytest.mark.parametrize(
    "name",
    [
        "admin:accounts_customer_changelist",
        "admin:accounts_creditline_changelist",
        "admin:accounts_bill_changelist",
        "admin:accounts_payment_changelist",
        "admin:cases_casetransition_changelist",
        "admin:cases_dunningrun_changelist",
        "admin:cases_dunningpolicy_changelist",
        "admin:accounts_product_changelist",
        "admin:accounts_paymentallocation_changelist",
    ],
)
def test_every_list_opens_for_a_supervisor(client, supervisor, cases, name):
    client.force_login(supervisor)
    assert client.get(reverse(name)).status_code == 200


def test_an_agent_sees_the_customer_masked_on_its_page(client, agent, cases):
    customer = Case.objects.with_customer().first().credit_line.customer
    client.force_login(agent)
    page = client.get(reverse("admin:accounts_customer_change", args=[customer.pk])).content.decode()
    assert customer.masked_national_id in page
    assert customer.national_id not in page
    history = client.get(reverse("admin:accounts_customer_history", args=[customer.pk]))
    assert history.status_code == 403


def test_a_supervisor_assigns_a_case_from_its_page_without_touching_its_stage(client, supervisor, agent, cases):
    case = Case.objects.filter(stage=Stage.REMINDER).first()
    client.force_login(supervisor)
    url = reverse("admin:cases_case_change", args=[case.pk])
    data = {"assignee": agent.pk, "transitions-TOTAL_FORMS": 0, "transitions-INITIAL_FORMS": 0}
    data |= {
        "letters-TOTAL_FORMS": 0,
        "letters-INITIAL_FORMS": 0,
        "contacts-TOTAL_FORMS": 0,
        "contacts-INITIAL_FORMS": 0,
        "promises-TOTAL_FORMS": 0,
        "promises-INITIAL_FORMS": 0,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case.refresh_from_db()
    assert (case.assignee, case.stage) == (agent, Stage.REMINDER)


def test_a_supervisor_reassigns_cases_in_bulk_after_a_confirmation_page(client, supervisor, cases):

    agent = user_in(AGENT, "agent-new")
    chosen = list(Case.objects.order_by("id").values_list("pk", flat=True)[:4])
    client.force_login(supervisor)
    url = reverse("admin:cases_case_changelist")
    confirmation = client.post(url, {"action": "assign_selected", "_selected_action": chosen})
    assert confirmation.status_code == 200
    body = confirmation.content.decode()
    assert all(Case.objects.get(pk=pk).number in body for pk in chosen)
    assert CaseAssignment.objects.count() == 0
    client.post(url, {"action": "assign_selected", "_selected_action": chosen, "confirm": "yes", "assignee": agent.pk})
    assert set(Case.objects.filter(pk__in=chosen).values_list("assignee", flat=True)) == {agent.pk}
    rows = CaseAssignment.objects.filter(case_id__in=chosen)
    assert rows.count() == 4
    assert set(rows.values_list("actor", flat=True)) == {supervisor.pk}


def test_agents_have_no_bulk_assignment(client, agent, cases):
    client.force_login(agent)
    page = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert "assign_selected" not in page


def test_an_agent_sees_only_their_own_cases_and_a_supervisor_sees_all(client, agent, supervisor, cases):

    other = user_in(AGENT, "agent-other")
    theirs = Case.objects.order_by("id").first()
    Case.objects.filter(pk=theirs.pk).update(assignee=other)
    client.force_login(agent)
    assert client.get(reverse("admin:cases_case_change", args=[theirs.pk])).status_code in (302, 404)
    listed = client.get(reverse("admin:cases_case_changelist") + "?all=").context["cl"].result_count
    assert listed == Case.objects.filter(assignee=agent).count()
    client.force_login(supervisor)
    assert client.get(reverse("admin:cases_case_change", args=[theirs.pk])).status_code == 200


def test_the_product_or_policy_filter_narrows_by_either(client, supervisor, cases, monkeypatch, run_dunning):
    fast_line = overdue_line(due=DUE - datetime.timedelta(days=5), policy="fast-track")
    run_dunning(datetime.date(2026, 1, 20))
    fast_case = Case.objects.get(credit_line=fast_line)
    fast_policy = DunningPolicy.objects.get(code="fast-track")

    def shown(query):
        response, _queries = changelist_queries(client, supervisor, 100, monkeypatch, query)
        return list(response.context["cl"].result_list)

    assert shown(f"?product=p{fast_line.product_id}") == [fast_case]
    assert shown(f"?product=d{fast_policy.pk}") == [fast_case]
    assert len(shown(f"?product=d{DunningPolicy.objects.get(code='standard').pk}")) == len(cases)


@pytest.mark.parametrize("screen", ["cases_casetransition", "cases_caseassignment"])
def test_a_case_number_search_finds_only_that_cases_rows(client, supervisor, agent, run_dunning, screen):

    lines = [overdue_line(due=datetime.date(2026, 1, 10)) for _ in range(2)]
    run_dunning(datetime.date(2026, 3, 1))
    wanted, other = (Case.objects.get(credit_line=line) for line in lines)
    for case in (wanted, other):
        case_assign(case=case, actor=supervisor, assignee=agent)
    client.force_login(supervisor)
    page = client.get(reverse(f"admin:{screen}_changelist"), {"q": wanted.number}).content.decode()
    assert wanted.number in page
    assert other.number not in page
