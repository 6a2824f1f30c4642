"""The agent's queue: priority, landing page, Work next case and its claim."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.kernel.roles import AGENT
from cases.admin import MyCaseAdmin
from cases.models import Case
from cases.workload.priority import priority_parts
from cases.workload.services import case_claim_next
from tests.factories import overdue_line, user_in

DUE = datetime.date(2026, 1, 10)


def portfolio(run_dunning, count=8):
    lines = [
        overdue_line(due=DUE - datetime.timedelta(days=7 * i), principal_fen=50_000 * (i + 1)) for i in range(count)
    ]
    run_dunning(datetime.date(2026, 1, 20))
    return [Case.objects.get(credit_line=line) for line in lines]


@pytest.mark.django_db
def test_the_queue_orders_by_the_documented_priority_and_explains_it(client, run_dunning, agent):
    cases = portfolio(run_dunning)
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(assignee=agent)
    client.force_login(agent)
    response = client.get(reverse("admin:cases_mycase_changelist"))
    shown = list(response.context["cl"].result_list)
    scores = [sum(priority_parts(case).values()) for case in shown]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) > 1  # the portfolio spreads over several scores, so the order is tested
    assert [case.queue_rank for case in shown] == scores  # no follow-ups: the stored rank is the score
    assert "for days past due" in response.content.decode()


@pytest.mark.django_db
def test_an_agent_lands_on_my_cases_and_a_supervisor_on_the_morning_dashboard(client, agent, supervisor):
    client.force_login(agent)
    assert client.get("/admin/").url == reverse("admin:cases_mycase_changelist")
    client.force_login(supervisor)
    assert client.get("/admin/").url == reverse("dashboard")


@pytest.mark.django_db
def test_my_cases_runs_the_same_queries_whatever_the_page_size(client, run_dunning, agent, monkeypatch):
    cases = portfolio(run_dunning, count=12)
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(assignee=agent)
    client.force_login(agent)
    url = reverse("admin:cases_mycase_changelist")
    counts = []
    for per_page in (3, 12):
        monkeypatch.setattr(MyCaseAdmin, "list_per_page", per_page)
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        counts.append(len(captured))
    assert counts[0] == counts[1] <= 10


@pytest.mark.django_db
def test_work_next_claims_the_top_case_and_a_second_agent_gets_another(run_dunning, agent):
    portfolio(run_dunning)
    other = user_in(AGENT, "agent-b")
    first = case_claim_next(actor=agent)
    second = case_claim_next(actor=other)
    assert first.pk != second.pk
    top = Case.objects.in_queue_order().first()
    assert first.pk == top.pk
    assert Case.objects.get(pk=first.pk).claimed_by == agent
    assert case_claim_next(actor=agent).pk == first.pk  # the agent's own claim is theirs to reopen


@pytest.mark.django_db
def test_an_expired_claim_frees_the_case(run_dunning, agent):

    portfolio(run_dunning, count=1)
    other = user_in(AGENT, "agent-b")
    claimed = case_claim_next(actor=agent)
    assert case_claim_next(actor=other) is None
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert case_claim_next(actor=other).pk == claimed.pk


@pytest.mark.django_db
def test_the_work_next_button_opens_the_case_page(client, run_dunning, agent):
    portfolio(run_dunning, count=2)
    client.force_login(agent)
    response = client.get(reverse("admin:cases_mycase_next"))
    assert response.url.startswith("/admin/cases/case/")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_work_next_never_hands_one_case_to_two_agents_at_once(on_postgres, shipped_data, run_dunning):
    portfolio(run_dunning, count=10)
    agents = [user_in(AGENT, f"agent-{i}") for i in range(6)]
    barrier, claimed, errors = threading.Barrier(len(agents)), [], []

    def work(agent):
        try:
            barrier.wait()
            case = case_claim_next(actor=agent)
            claimed.append(case.pk if case else None)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert None not in claimed
    assert len(set(claimed)) == len(agents)


@pytest.mark.django_db
def test_the_queue_puts_a_large_uncontacted_balance_before_an_old_small_one(client, run_dunning, agent):
    old_small, new_large = portfolio(run_dunning, count=2)
    Case.objects.filter(pk=old_small.pk).update(
        assignee=agent, days_past_due=90, balance_fen=100, last_contact_at=timezone.now()
    )
    Case.objects.filter(pk=new_large.pk).update(assignee=agent, days_past_due=10, balance_fen=10_000_000)
    client.force_login(agent)
    shown = list(client.get(reverse("admin:cases_mycase_changelist")).context["cl"].result_list)
    assert [case.pk for case in shown] == [new_large.pk, old_small.pk]
