"""``manage.py bench_load``: agents and the lending system at once, against the production server, with locust.

N open cases shared among the agents (built once, reused by later runs of the same size), an API client
for the lending system, make serve's gunicorn on a free port of 127.0.0.1, then locust for the duration:
each agent signs in once and works the queue (the queue, the next case, a contact, a promise), the lending
system posts payments, 1,000 a request. An error is a 5xx or a timeout; a refusal (a 4xx, a contact the
rules refuse, a conflict) is an answer, counted apart. Exits non-zero when there was an error.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from backoffice.bench import load, require_migrated
from backoffice.kernel.progress import progress_bar


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Command(BaseCommand):
    """Run the load test and print each request type's p50/p95/p99, its count and the errors."""

    help = "Load test: agents in the admin and payments through the API, against the production server (PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --cases, --agents, --seconds, --think and --json."""
        parser.add_argument("--cases", type=int, default=100_000, help="Open cases shared by the agents (100000).")
        parser.add_argument("--agents", type=int, default=50, help="Agents working their queues at once (50).")
        parser.add_argument("--seconds", type=int, default=120, help="How long the load runs (120).")
        parser.add_argument(
            "--think",
            type=float,
            default=10.0,
            help="Longest pause of an agent between two steps (reading the case, making the call), in seconds "
            "(10; each pause is a third of it to all of it).",
        )
        parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")

    def handle(self, *args: object, **options: object) -> None:
        """Prepare, serve, load, print; fail when a request failed."""
        require_migrated("bench_load")
        cases, agents, seconds, think = options["cases"], options["agents"], options["seconds"], options["think"]
        self._check(cases, agents, seconds, think)
        started = time.perf_counter()
        portfolio = load.portfolio_ready(cases=cases, build=self._build)
        _say(f"Portfolio {portfolio}; giving {agents} agents their queues and the lending system its client.")
        cast = load.cast_ready(agents=agents)
        environment = load.server_environment(load.free_port())
        if load.static_files_collected(environment):
            _say("Static files collected, as make serve does.")
        folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
        prepared = time.perf_counter() - started
        _say(f"Serving on 127.0.0.1:{environment['PORT']}; {agents} agents and the lending system for {seconds} s.")
        with load.served(environment, folder / "server.log") as port:
            raw = load.locust_run(cast=cast, port=port, agents=agents, seconds=seconds, think=think, folder=folder)
        figures = {
            "cases": cases,
            "agents": agents,
            "seconds": seconds,
            "think_seconds": think,
            "portfolio": portfolio,
            "prepare_seconds": round(prepared, 1),
            "rows_per_payment_request": load.ROWS_PER_REQUEST,
            "timeout_seconds": load.TIMEOUT_SECONDS,
            "agents_started_per_second": load.spawn_rate(agents + 1, seconds),
            **load.summary(raw, seconds),
            "database": connection.vendor,
            "logs": str(folder),
        }
        self.stdout.write(json.dumps(figures) if options["json"] else self._table(figures))
        if figures["errors"]:
            raise CommandError(f"{figures['errors']} requests failed (a 5xx or a timeout): see {folder}")

    @staticmethod
    def _check(cases: int, agents: int, seconds: int, think: float) -> None:
        if agents < 1:
            raise CommandError(f"--agents {agents}: must be at least 1.")
        if cases < agents:
            raise CommandError(f"--cases {cases}: must be at least --agents ({agents}), a case for each queue.")
        if seconds < 5:
            raise CommandError(f"--seconds {seconds}: must be at least 5.")
        if not 0 <= think <= 60:
            raise CommandError(f"--think {think}: must be from 0 to 60 seconds.")
        if connection.vendor != "postgresql":
            raise CommandError("bench_load needs PostgreSQL: set DATABASE_URL=postgres://... (a scratch database).")

    @staticmethod
    def _build(cases: int) -> None:
        with progress_bar(total=cases, description="Building", unit="lines") as bar:
            load.portfolio_build(cases=cases, on_chunk=bar.update, on_step=_say)

    @staticmethod
    def _table(figures: dict) -> str:
        lines = [
            f"{figures['agents']} agents and the lending system for {figures['seconds']} s over "
            f"{figures['cases']} open cases on {figures['database']}: {figures['requests_total']} requests, "
            f"{figures['errors']} errors (5xx or timeout), {figures['refusals']} refusals (answers).",
            f"{'request':<18} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'refused':>8}",
        ]
        for name, row in figures["requests"].items():
            lines.append(
                f"{name:<18} {row['count']:>7} {row['per_second']:>7} {row['p50_ms']:>8} {row['p95_ms']:>8} "
                f"{row['p99_ms']:>8} {row['errors']:>7} {row['refusals']:>8}"
            )
        lines.append(f"Logs and locust's CSV: {figures['logs']}")
        return "\n".join(lines)
