"""The load test's parts: its portfolio and people, the production server on the loopback, locust, the figures.

The portfolio is built once and reused by later runs of the same size: every line overdue, so the night opens
a case on each; the open cases are spread over the agents, each with a queue of their own.
"""

import contextlib
import datetime
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group, User
from django.contrib.staticfiles.finders import get_finders
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import CreditLine, Customer
from backoffice.bench import portfolio as bench
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.roles import AGENT
from backoffice.night import dunning_run
from cases.choices import OPEN_STAGES
from cases.models import Case, CaseTransition
from cases.workload.priority import refresh_queue_ranks

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
API_CLIENT = "bench-load"
AGENT_PREFIX = "load-agent-"
ROWS_PER_REQUEST = 1_000
# A request still unanswered after this long is an error of the run: gunicorn's own limit, past which the
# server takes a request for stuck (backoffice.gunicorn_conf), so a slower answer is one a person never gets.
TIMEOUT_SECONDS = 60
_BENCH_CODES = [code for code, _policy, _weight in bench.BENCH_PRODUCTS]


@dataclass
class Cast:
    """Who takes part: the agents' logins and password, the lending system's token, the lines it pays on."""

    agents: list[str]
    password: str
    token: str
    credit_lines: list[str]


def _bench_lines() -> int:
    return CreditLine.objects.filter(product__code__in=_BENCH_CODES).count()


def _open_bench_cases() -> int:
    return Case.objects.open().filter(credit_line__product__code__in=_BENCH_CODES).count()


def portfolio_ready(*, cases: int, build: Callable[[int], None]) -> str:
    """Reuse the load portfolio when it has ``cases`` open cases; build it (calling ``build``) when not.

    Return ``"reused"`` or ``"built"``. A ledger holding lines that are not the benchmark's is refused.
    """
    lines = CreditLine.objects.count()
    if lines and lines != _bench_lines():
        raise CommandError(
            "bench_load builds its own portfolio: the ledger holds other lines. "
            "Point DATABASE_URL at a scratch database (make bench-load uses BENCH_DATABASE_URL)."
        )
    if lines and _open_bench_cases() == cases:
        return "reused"
    if lines:
        bench.clear_portfolio()
    build(cases)
    return "built"


def portfolio_build(*, cases: int, on_chunk: Callable[[int], None], on_step: Callable[[str], None]) -> None:
    """Write ``cases`` overdue lines and run the night over them, which opens a case on every one."""
    today = timezone.localdate()
    on_step(f"Building {cases} credit lines, every one overdue.")
    started = time.perf_counter()
    bench.build_portfolio(lines=cases, as_of=today, on_chunk=on_chunk, overdue_share=1.0)
    on_step(f"Built in {time.perf_counter() - started:.0f} s; the night opens their cases.")
    started = time.perf_counter()
    dunning_run(as_of=today, batch_size=settings.DUNNING_BATCH_SIZE)
    bench.analyze((Case, CaseTransition, CreditLine))
    on_step(f"{_open_bench_cases()} cases open after {time.perf_counter() - started:.0f} s.")


def _agents(count: int) -> list[User]:
    group = Group.objects.get(name=AGENT)
    agents = []
    for index in range(count):
        agent, _created = User.objects.get_or_create(username=f"{AGENT_PREFIX}{index}", defaults={"is_staff": True})
        agent.groups.add(group)
        agents.append(agent)
    return agents


def _password_for(agents: list[User]) -> str:
    """Give every agent the same fresh password, hashed once, with the hasher the server checks it with.

    The production default (PBKDF2), whatever this process's own settings say (the tests hash fast).
    """
    password = secrets.token_urlsafe(16)
    hasher = PBKDF2PasswordHasher()
    User.objects.filter(pk__in=[agent.pk for agent in agents]).update(
        password=hasher.encode(password, hasher.salt()), is_active=True
    )
    return password


def _share_cases(agents: list[User]) -> None:
    """Spread the open cases over the agents, unclaimed, and rank each queue as the night would."""
    assignee = " ".join(f"WHEN {index} THEN {agent.pk}" for index, agent in enumerate(agents))
    stages = ", ".join(["%s"] * len(OPEN_STAGES))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Case._meta.db_table} SET assignee_id = CASE id %% {len(agents)} {assignee} END, "
            f"claimed_by_id = NULL, claimed_until = NULL WHERE stage IN ({stages})",
            list(OPEN_STAGES),
        )
    refresh_queue_ranks()
    bench.analyze((Case,))


def _zone_at_late_morning() -> str:
    """Return a fixed-offset zone in which it is between 10:00 and 11:00 now."""
    offset = (10 - timezone.now().astimezone(datetime.UTC).hour + 12) % 24 - 12
    # Etc/GMT names have the sign reversed: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def _daytime_customers() -> None:
    # Agents call in the customers' daytime: the rules then refuse a call for what it is (a cap, a consent),
    # not because the machine's clock is at night in Shanghai.
    Customer.objects.filter(credit_lines__product__code__in=_BENCH_CODES).update(time_zone=_zone_at_late_morning())


def _api_token() -> str:
    for client in ApiClient.objects.filter(name=API_CLIENT).select_related("user"):
        user = client.user
        client.delete()
        user.delete()
    root = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench-root")
    _client, token = api_client_create(name=API_CLIENT, scopes=[Scope.LEDGER_WRITE], actor=root)
    return token


def cast_ready(*, agents: int) -> Cast:
    """Make the agents (each with a queue) and the lending system's API client; return who takes part."""
    people = _agents(agents)
    password = _password_for(people)
    _share_cases(people)
    _daytime_customers()
    numbers = CreditLine.objects.filter(product__code__in=_BENCH_CODES).values_list("number", flat=True)
    return Cast(
        agents=[agent.username for agent in people], password=password, token=_api_token(), credit_lines=list(numbers)
    )


def _newest_source_mtime() -> float:
    newest = 0.0
    for finder in get_finders():
        for path, storage in finder.list([]):
            newest = max(newest, os.path.getmtime(storage.path(path)))
    return newest


def server_environment(port: int) -> dict[str, str]:
    """Return make serve's environment for a server on ``port`` over this command's own database."""
    unset = {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "CELERY_BROKER_URL"}
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    database = connection.settings_dict
    credentials = urllib.parse.quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + urllib.parse.quote(database["PASSWORD"], safe="")
    environment.update(
        DEBUG="false",
        PORT=str(port),
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
        STATIC_ROOT=str(settings.STATIC_ROOT),
        # The agents of the run sign in with a password only.
        OTP_REQUIRED_FOR_ROLES="",
    )
    return environment


def static_files_collected(environment: dict[str, str]) -> bool:
    """Collect the static files as make serve does, unless they were collected since the last change; say if it ran."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime():
        return False
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=environment,
        check=True,
    )
    return True


def free_port() -> int:
    """Return a port on 127.0.0.1 nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as probe:
            return probe.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def served(environment: dict[str, str], log: Path, *, seconds: float = 300) -> Iterator[int]:
    """Run make serve's gunicorn, with its config, on the environment's port; stop it on the way out."""
    port = int(environment["PORT"])
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("w") as output:
        server = subprocess.Popen(  # noqa: S603 - the project's own server, by its path in the virtualenv
            [str(gunicorn), "backoffice.wsgi:application", "--config", "python:backoffice.gunicorn_conf"],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + seconds
            while not _answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise CommandError(f"The server did not start: see {log}")
                time.sleep(0.5)
            yield port
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=60)


def spawn_rate(users: int, seconds: int) -> int:
    """Return users started a second: all of them within the run's first quarter, as a shift starts.

    Each agent's sign-in checks a password with the production hasher, which is slow on purpose.
    """
    return max(1, math.ceil(users / max(1, seconds // 4)))


def locust_run(*, cast: Cast, port: int, agents: int, seconds: int, think: float, folder: Path) -> dict:
    """Run locust headless for ``seconds`` (it stops by itself) and return its figures by request type."""
    config = folder / "config.json"
    report = folder / "figures.json"
    with os.fdopen(os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as file:
        json.dump(
            {
                "agents": cast.agents,
                "password": cast.password,
                "token": cast.token,
                "credit_lines": cast.credit_lines,
                "reference_prefix": f"LOAD-{time.time_ns()}",
                "rows_per_request": ROWS_PER_REQUEST,
                "timeout_seconds": TIMEOUT_SECONDS,
                "think_seconds": think,
                "report": str(report),
            },
            file,
        )
    users = agents + 1
    command = [
        str(Path(sys.executable).with_name("locust")),
        *("-f", str(LOCUSTFILE), "--headless", "--host", f"http://127.0.0.1:{port}"),
        *("-u", str(users), "--spawn-rate", str(spawn_rate(users, seconds)), "-t", f"{seconds}s"),
        *("--stop-timeout", str(TIMEOUT_SECONDS), "--csv", str(folder / "locust"), "--only-summary"),
        *("--exit-code-on-error", "0", "--loglevel", "WARNING"),
    ]
    with (folder / "locust.log").open("w") as output:
        finished = subprocess.run(  # noqa: S603 - locust of this virtualenv, on the project's own locustfile
            command,
            env={**os.environ, "LOAD_CONFIG": str(config)},
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=seconds + TIMEOUT_SECONDS + 120,
            check=False,
        )
    config.unlink()
    if finished.returncode != 0 or not report.exists():
        raise CommandError(f"locust stopped with exit code {finished.returncode}: see {folder / 'locust.log'}")
    return json.loads(report.read_text(encoding="utf-8"))


def _percentile(ordered: list[float], share: float) -> float:
    """Return the nearest-rank percentile of ``ordered``."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(raw: dict, seconds: int) -> dict:
    """Return count, p50/p95/p99 (ms), errors and refusals by request type, and the totals."""
    requests = {}
    for name, figures in sorted(raw.items()):
        ordered = sorted(figures["times_ms"])
        requests[name] = {
            "count": len(ordered),
            "per_second": round(len(ordered) / seconds, 2),
            **{f"p{int(share * 100)}_ms": round(_percentile(ordered, share), 1) for share in (0.5, 0.95, 0.99)},
            "errors": figures["errors"],
            "refusals": figures["refusals"],
        }
    return {
        "requests": requests,
        "requests_total": sum(row["count"] for row in requests.values()),
        "errors": sum(row["errors"] for row in requests.values()),
        "refusals": sum(row["refusals"] for row in requests.values()),
    }
