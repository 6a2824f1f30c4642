"""``manage.py bench_queue``: the agent queue and the case list over N cases (PostgreSQL in earnest)."""

import json
import random
import statistics
import time

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import CreditLine
from backoffice.bench import portfolio as bench
from backoffice.bench import require_migrated
from backoffice.bench.pages import pages_in_process
from backoffice.kernel.progress import progress_bar
from backoffice.kernel.roles import AGENT, SUPERVISOR
from cases.admin import CaseAdmin, MyCaseAdmin
from cases.choices import LADDER
from cases.models import Case
from cases.workload.priority import refresh_queue_ranks

AGENTS = 50
_REQUESTS = 15
_AGENT_SCREENS = (
    "cases_case",
    "cases_contact",
    "accounts_customer",
    "accounts_creditline",
    "accounts_payment",
    "letters_letter",
)


def _unbounded_counts(queries: list[str]) -> int:
    table = Case._meta.db_table
    return sum(1 for sql in queries if "COUNT(" in sql and table in sql and "WHERE" not in sql and "LIMIT" not in sql)


class Command(BaseCommand):
    """Build N open cases spread over 50 agents, then time the queue page and the case list."""

    help = "Benchmark the agent queue and the case list over N cases (needs an empty ledger; cleans up after)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --cases and --json."""
        parser.add_argument("--cases", type=int, default=100_000, help="Cases to build (default 100000).")
        parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")

    def handle(self, *args: object, **options: object) -> None:
        """Build, measure, clean up, print."""
        require_migrated("bench_queue")
        if options["cases"] < 1:
            raise CommandError(f"--cases {options['cases']} must be at least 1.")
        if CreditLine.objects.exists():
            raise CommandError(
                "bench_queue needs an empty ledger: point DATABASE_URL at a scratch database and migrate it."
            )
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = ["testserver"]
        agents = []
        try:
            agents = self._build(options["cases"])
            with pages_in_process():
                figures = self._measure(options["cases"], agents)
        finally:
            bench.clear_portfolio()
            User.objects.filter(pk__in=[a.pk for a in agents]).delete()
        if options["json"]:
            self.stdout.write(json.dumps(figures))
        else:
            self.stdout.write(
                f"{figures['cases']} cases: queue page {figures['queries_per_page']} queries whatever its size "
                f"(50 and 200 rows: {figures['queries_by_page_size']}), median {figures['median_ms']} ms; "
                f"case list median {figures['case_list_median_ms']} ms; an agent's other screens, median ms: "
                f"{figures['agent_screens_median_ms']}; unbounded COUNT queries: "
                f"{figures['unfiltered_count_queries']}; ranking every open case took {figures['rank_all_seconds']} s."
            )

    def _build(self, count: int) -> list[User]:
        with progress_bar(total=count, description="Building", unit="lines") as bar:
            ids = bench.build_portfolio(lines=count, as_of=timezone.localdate(), on_chunk=bar.update)
        group = Group.objects.get(name=AGENT)
        agents = [User.objects.create(username=f"bench-agent-{i}", is_staff=True) for i in range(AGENTS)]
        for agent in agents:
            agent.groups.add(group)
        supervisor = User.objects.create(username="bench-supervisor", is_staff=True)
        supervisor.groups.add(Group.objects.get(name=SUPERVISOR))
        agents.append(supervisor)
        assignee = " ".join(f"WHEN {i} THEN {agent.pk}" for i, agent in enumerate(agents[:AGENTS]))
        stage = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(LADDER))
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {Case._meta.db_table}
                    (credit_line_id, customer_id, stage, days_past_due, balance_fen, assignee_id, opened_on, opened_at,
                     hold_reason, hold_note, held_from_stage, close_reason, broken_promises)
                    SELECT id, customer_id, CASE id %% 3 {stage} END, id %% 120 + 1, (id * 7919) %% 2000000, CASE id %% {AGENTS} {assignee} END,
                           %s, %s, '', '', '', '', 0
                      FROM {CreditLine._meta.db_table} WHERE id >= %s AND id <= %s""",
                [
                    connection.ops.adapt_datefield_value(timezone.localdate()),
                    connection.ops.adapt_datetimefield_value(now),
                    ids.start,
                    ids.stop - 1,
                ],
            )
        # The ranks the nightly run would have stored.
        started = time.perf_counter()
        refresh_queue_ranks()
        self.rank_seconds = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {Case._meta.db_table}")
        return agents

    def _timed_pages(self, client: Client, url: str) -> tuple[list[float], list[str]]:
        client.get(url)
        times, queries = [], []
        for _ in range(_REQUESTS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            queries = [q["sql"] for q in captured.captured_queries]
        return times, queries

    def _measure(self, count: int, agents: list[User]) -> dict:
        client = Client(HTTP_X_FORWARDED_PROTO="https")  # as a browser behind the TLS proxy
        client.force_login(random.Random(1).choice(agents[:AGENTS]))
        queue_url = reverse("admin:cases_mycase_changelist")
        by_size, unbounded = {}, 0
        for size in (50, 200):
            MyCaseAdmin.list_per_page = size
            times, queries = self._timed_pages(client, queue_url)
            by_size[size] = (len(queries), statistics.median(times))
            unbounded += _unbounded_counts(queries)
        MyCaseAdmin.list_per_page = 100
        # What else an agent opens every day, each narrowed to the agent's own cases.
        agent_ms, agent_queries = {}, {}
        for screen in _AGENT_SCREENS:
            times, queries = self._timed_pages(client, reverse(f"admin:{screen}_changelist"))
            agent_ms[screen], agent_queries[screen] = round(statistics.median(times), 1), len(queries)
            unbounded += _unbounded_counts(queries)
        client.force_login(agents[-1])
        list_times, list_queries = self._timed_pages(client, reverse("admin:cases_case_changelist"))
        return {
            "cases": count,
            "queries_per_page": by_size[50][0],
            "queries_by_page_size": {str(size): queries for size, (queries, _ms) in by_size.items()},
            "median_ms": round(by_size[50][1], 1),
            "unfiltered_count_queries": unbounded + _unbounded_counts(list_queries),
            "case_list_median_ms": round(statistics.median(list_times), 1),
            "agent_screens_median_ms": agent_ms,
            "agent_screens_queries": agent_queries,
            "case_list_queries": len(list_queries),
            "case_list_page_size": CaseAdmin.list_per_page,
            "rank_all_seconds": round(self.rank_seconds, 2),
        }
