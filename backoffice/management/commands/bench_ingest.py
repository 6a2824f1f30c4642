"""``manage.py bench_ingest``: payments through the API's whole WSGI stack, in bulk requests, and their replay.

The portfolio is the night's benchmark portfolio, with the night run over it first, as payments
arrive in a working day: the lines overdue are in collection, and a payment refreshes their cases.
"""

import csv
import gc
import io
import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import CreditLine, Payment
from backoffice.bench import portfolio as bench
from backoffice.bench import require_migrated
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.kernel.progress import progress_bar
from backoffice.night import dunning_run
from cases.models import Case, CaseTransition

BENCH_CLIENT = "bench-ingest"


def _rows(numbers: list[str], start: int) -> list[dict]:
    received = timezone.now().isoformat()
    return [
        {
            "credit_line": number,
            "external_reference": f"BENCH-{start + index:09d}",
            "amount": "12.34",
            "channel": "alipay",
            "received_at": received,
        }
        for index, number in enumerate(numbers)
    ]


class Command(BaseCommand):
    """Post N payments over fresh credit lines in requests of 1,000, then replay them; print the figures."""

    help = "Benchmark payment ingest through the API (needs an empty ledger; cleans up after)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --payments, --import-rows, --streams and --json."""
        parser.add_argument(
            "--payments", type=int, default=40_000, help="Payments to post (default 40000, at least 3100)."
        )
        parser.add_argument(
            "--import-rows",
            type=int,
            default=1_000_000,
            help="Payments in the CSV file imported with import_ledger (default 1000000; 0 skips the import).",
        )
        parser.add_argument(
            "--streams",
            type=int,
            help=(
                "Requests in flight at once, as the lending system posts them (default 2 on PostgreSQL; "
                "SQLite takes one writer at a time, so 1 there); the figures at one stream are printed too."
            ),
        )
        parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")

    def handle(self, *args: object, **options: object) -> None:
        """Build lines, post, replay, clean up, print."""
        count, streams = options["payments"], options["streams"]
        sqlite = connection.vendor == "sqlite"
        if streams is None:
            streams = 1 if sqlite else 2
        if count < 3_100:
            raise CommandError(
                f"--payments {count}: must be at least 3100 (the requests of 100 and 1,000 counted, "
                "then some timed at one stream and some at --streams)."
            )
        if not 1 <= streams <= 16:
            raise CommandError(f"--streams {streams}: must be between 1 and 16.")
        if sqlite and streams > 1:
            raise CommandError(
                f"--streams {streams}: SQLite takes one writer at a time; use --streams 1, "
                "or point DATABASE_URL at a PostgreSQL database."
            )
        require_migrated("bench_ingest")
        if CreditLine.objects.exists():
            raise CommandError("bench_ingest needs an empty ledger: point DATABASE_URL at a scratch database.")
        settings.DEBUG, settings.ALLOWED_HOSTS = False, ["testserver"]
        try:
            figures = self._measure(count, streams)
            figures["import_rows_per_second"] = self._import(options["import_rows"])
        finally:
            bench.clear_portfolio()
            client = ApiClient.objects.filter(name=BENCH_CLIENT).first()
            if client is not None:
                user = client.user
                client.delete()
                user.delete()
        self.stdout.write(json.dumps(figures) if options["json"] else self._sentence(figures))

    @staticmethod
    def _token() -> str:
        root = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench-root")
        _client, token = api_client_create(name=BENCH_CLIENT, scopes=[Scope.LEDGER_WRITE], actor=root)
        return token

    @staticmethod
    def _client(token: str) -> Client:
        # As the lending system reaches the API: through the TLS proxy, which says so in X-Forwarded-Proto.
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_FORWARDED_PROTO="https")

    def _post(self, client: Client, rows: list[dict]) -> object:
        response = client.post(reverse("api:payments"), json.dumps(rows), content_type="application/json")
        if response.status_code not in (200, 201):
            raise CommandError(f"The API answered {response.status_code}: {response.content[:300]!r}")
        return response

    def _stream(self, token: str, requests: list[list[dict]], bar: object, lock: threading.Lock) -> None:
        """Post ``requests`` one after another on this thread's own client and database connection."""
        client = self._client(token)
        try:
            for rows in requests:
                self._post(client, rows)
                with lock:
                    bar.update(len(rows))
        finally:
            connections.close_all()

    def _timed(self, token: str, requests: list[list[dict]], streams: int) -> float:
        """Post ``requests`` over ``streams`` threads at once (each its own connection); return the seconds."""
        total = sum(len(rows) for rows in requests)
        lock = threading.Lock()
        with progress_bar(total=total, description=f"Posting, {streams} at once", unit="payments") as bar:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=streams) as pool:
                shares = [
                    pool.submit(self._stream, token, requests[share::streams], bar, lock) for share in range(streams)
                ]
                for share in shares:
                    share.result()
            return time.perf_counter() - started

    def _queries(self, client: Client, rows: list[dict]) -> int:
        count = 0

        def counted(execute: object, sql: str, params: object, many: bool, context: dict) -> object:
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            self._post(client, rows)
        return count

    def _measure(self, count: int, streams: int) -> dict:
        today = timezone.localdate()
        lines = bench.build_portfolio(lines=count, as_of=today)
        # Payments arrive on a ledger the night has run over: the lines overdue are in collection already.
        dunning_run(as_of=today, batch_size=settings.DUNNING_BATCH_SIZE)
        bench.analyze((Case, CaseTransition, CreditLine))
        numbers = list(CreditLine.objects.filter(pk__in=lines).order_by("id").values_list("number", flat=True))
        token = self._token()
        client = self._client(token)
        queries = {
            "100": self._queries(client, _rows(numbers[:100], 0)),
            "1000": self._queries(client, _rows(numbers[100:1100], 100)),
        }
        requests = [_rows(numbers[start : start + 1000], start) for start in range(1100, count - 999, 1000)]
        # Every request pays fresh lines; the first half is posted one at a time, the second half
        # ``streams`` at a time, as a lending system with that many connections would post them.
        one_stream, many_streams = requests[: len(requests) // 2], requests[len(requests) // 2 :]
        # The bench holds every request it will send (tens of thousands of dicts), which a server
        # never does: set them aside from the garbage collector, which would otherwise walk them
        # on every collection a request triggers, and count that against the API.
        gc.collect()
        gc.freeze()
        one_seconds = self._timed(token, one_stream, 1)
        seconds = self._timed(token, many_streams, streams)
        before = Payment.objects.count()
        started = time.perf_counter()
        for rows in requests:
            self._post(client, rows)
        replay_seconds = time.perf_counter() - started
        gc.unfreeze()
        timed, one_timed = sum(map(len, many_streams)), sum(map(len, one_stream))
        return {
            "payments": timed + one_timed,
            "streams": streams,
            "payments_per_second": round(timed / seconds),
            "seconds": round(seconds, 2),
            "payments_per_second_one_stream": round(one_timed / one_seconds),
            "seconds_one_stream": round(one_seconds, 2),
            "queries_per_request": queries,
            "replay_seconds": round(replay_seconds, 2),
            "replay_inserted": Payment.objects.count() - before,
            "database": connection.vendor,
        }

    def _import(self, rows: int) -> int | None:
        """Write a CSV file of ``rows`` payments over the bench's lines, import it with import_ledger; return rows/s."""
        if not rows:
            return None
        numbers = list(CreditLine.objects.order_by("id").values_list("number", flat=True))
        received = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["credit_line", "external_reference", "amount", "channel", "received_at"])
            writer.writerows(
                (numbers[index % len(numbers)], f"I{index:07d}", "1", "alipay", received) for index in range(rows)
            )
            file.flush()
            # A million rows are a larger file than the admin's upload ceiling: the command is given room for it.
            settings.LEDGER_IMPORT_MAX_BYTES = max(settings.LEDGER_IMPORT_MAX_BYTES, os.path.getsize(file.name))
            started = time.perf_counter()
            call_command("import_ledger", file.name, "--kind", "payments", stdout=io.StringIO())
            seconds = time.perf_counter() - started
        return round(rows / seconds)

    @staticmethod
    def _sentence(figures: dict) -> str:
        return (
            f"{figures['payments']} payments through the API on {figures['database']}, in requests of 1,000: "
            f"{figures['payments_per_second']} payments/s with {figures['streams']} requests at once "
            f"({figures['seconds']} s), {figures['payments_per_second_one_stream']} payments/s one at a time "
            f"({figures['seconds_one_stream']} s); "
            f"queries per request {figures['queries_per_request']}; replay {figures['replay_seconds']} s, "
            f"{figures['replay_inserted']} rows inserted; import_ledger {figures['import_rows_per_second']} rows/s."
        )
