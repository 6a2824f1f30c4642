"""``manage.py bench_reports``: time the night's report aggregate and every report on N lines with M months of history."""

import datetime
import json
import statistics
import time

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import CreditLine
from backoffice.bench import portfolio as bench
from backoffice.bench import require_migrated
from backoffice.bench.pages import pages_in_process
from backoffice.kernel.bulksql import jit_off, sort_memory_raise
from backoffice.kernel.progress import progress_bar
from backoffice.kernel.roles import SUPERVISOR
from backoffice.night import dunning_run
from backoffice.reports import aggregate
from backoffice.reports.models import EntryObservation, LineDay, PeopleDay
from backoffice.reports.models_recovery import RecoveryDay, StageEntry
from backoffice.reports.registry import REPORTS

# Every report is timed, by its URL name under /admin/reports/, opened so many times.
_OPENINGS = 5
_BENCH_USER = "bench-supervisor"
# The night's statements that write the night's own date; the others write the day before it.
_NIGHT_DATED = {"line_days", "entry_rate", "positions", "flow", "vintage"}


class Command(BaseCommand):
    """Build N lines, run their first nights, write M months of history, then time the aggregate and each report."""

    help = "Benchmark the report aggregate and the reports on N synthetic credit lines with M months (empty ledger)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --lines, --months, --json and --keep."""
        parser.add_argument("--lines", type=int, default=100_000, help="Credit lines to build (default 100000).")
        parser.add_argument("--months", type=int, default=12, help="Months of history (default 12).")
        parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic portfolio afterwards.")

    def handle(self, *args: object, **options: object) -> None:
        """Run the benchmark and print its figures."""
        if options["lines"] < 1 or not 1 <= options["months"] <= 60:
            raise CommandError(
                f"--lines {options['lines']} must be at least 1 and --months {options['months']} 1 to 60."
            )
        require_migrated("bench_reports")
        if CreditLine.objects.exists():
            raise CommandError(
                "bench_reports needs an empty ledger: point DATABASE_URL at a scratch database "
                "(e.g. `make bench-reports`), migrate it, and run again."
            )
        settings.DEBUG = False
        # The reports are opened in-process, by Django's test client, which names its host so.
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        try:
            with pages_in_process():
                figures = self._measure(options["lines"], options["months"])
        finally:
            if not options["keep"]:
                bench.clear_portfolio()
                User.objects.filter(username=_BENCH_USER).delete()
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        reports = ", ".join(
            f"{name} {r['median_ms']} ms ({r['queries']} queries)" for name, r in figures["reports"].items()
        )
        self.stdout.write(
            f"{figures['lines']} lines, {figures['months']} months: the aggregate took {figures['aggregate_seconds']} s "
            f"a night ({figures['aggregate_share_of_night']:.0%} of the night's {figures['night_seconds']} s; "
            f"on the portfolio's first night {figures['first_night']['aggregate_seconds']} s, "
            f"{figures['first_night']['aggregate_share_of_night']:.0%} of {figures['first_night']['night_seconds']} s), "
            f"{figures['month_end_aggregate_seconds']} s on a month end; reports: {reports}; "
            f"the dashboard {figures['dashboard_ms']} ms ({figures['dashboard_queries']} queries)."
        )

    def _measure(self, lines: int, months: int) -> dict:
        as_of = timezone.localdate()
        # The portfolio's first night (yesterday) opens a case on every overdue line and enters nearly every
        # line in a stage: a migration's night, timed and shown apart. Tonight's is an ordinary night, the
        # one every later night resembles: the lines that came due, climbed a stage or paid.
        first = as_of - datetime.timedelta(days=1)
        with progress_bar(total=lines, description="Building", unit="lines") as bar:
            bench.build_portfolio(lines=lines, as_of=first, on_chunk=bar.update)
        first_night = self._night(first)
        night = self._night(as_of)
        month_end_steps = self._history(as_of, months)
        month_end_seconds = sum(month_end_steps.values())
        bench.analyze((LineDay,))
        return {
            "lines": lines,
            "months": months,
            "night_seconds": night["night_seconds"],
            "aggregate_seconds": night["aggregate_seconds"],
            "aggregate_share_of_night": night["aggregate_share_of_night"],
            "aggregate_steps_seconds": night["aggregate_steps_seconds"],
            "stage_entries": night["stage_entries"],
            "first_night": first_night,
            "month_end_aggregate_seconds": round(month_end_seconds, 2),
            "month_end_steps_seconds": {name: round(seconds, 3) for name, seconds in month_end_steps.items()},
            "reports": self._reports(),
            "dashboard_ms": (dashboard := self._dashboard())["median_ms"],
            "dashboard_queries": dashboard["queries"],
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        }

    def _night(self, as_of: datetime.date) -> dict:
        """Run and time the night of ``as_of``, then time its report aggregate again, step by step.

        ``stage_entries`` says how much the night moved: the cases that entered a stage that day.
        """
        started = time.perf_counter()
        dunning_run(as_of=as_of, batch_size=settings.DUNNING_BATCH_SIZE)
        night_seconds = time.perf_counter() - started
        steps = self._aggregate_again(as_of)
        return {
            "as_of": as_of.isoformat(),
            "stage_entries": StageEntry.objects.filter(entered_on=as_of).count(),
            "night_seconds": round(night_seconds, 2),
            "aggregate_seconds": round(sum(steps.values()), 2),
            "aggregate_share_of_night": round(sum(steps.values()) / night_seconds, 3),
            "aggregate_steps_seconds": {name: round(seconds, 3) for name, seconds in steps.items()},
        }

    def _timed(self, step) -> float:
        started = time.perf_counter()
        step()
        return time.perf_counter() - started

    def _aggregate_again(self, as_of: datetime.date) -> dict[str, float]:
        """Time the night's own step, statement by statement: forget what it wrote for the date, write it again.

        Return the seconds of each of the night's statements (``aggregate.aggregate_steps``), run in one
        transaction as ``reports_aggregate`` runs them.
        """
        LineDay.objects.filter(as_of=as_of).delete()
        PeopleDay.objects.filter(day=as_of - datetime.timedelta(days=1)).delete()
        for days in aggregate.ENTRY_DAYS:
            EntryObservation.objects.filter(due_on=as_of - datetime.timedelta(days=days), days_after=days).delete()
        seconds = self._steps_timed(aggregate.aggregate_steps(as_of=as_of))
        # The steps that write the day before the night: time them on this night's own day too (its run's
        # openings and climbs, its cases in hand), as the next night will write it.
        tomorrow = as_of + datetime.timedelta(days=1)
        day_before = [step for step in aggregate.aggregate_steps(as_of=tomorrow) if step[0] not in _NIGHT_DATED]
        later = self._steps_timed(day_before)
        for name, step_seconds in later.items():
            seconds[name] = seconds.get(name, 0.0) + step_seconds
        return seconds

    def _steps_timed(self, steps: list) -> dict[str, float]:
        seconds = {}
        with transaction.atomic():
            jit_off()
            sort_memory_raise()
            for name, step in steps:
                seconds[name] = self._timed(step)
        return seconds

    def _history(self, as_of: datetime.date, months: int) -> dict[str, float]:
        """Write ``months`` month ends (timing the last) and a year of daily rows; return the month end's steps' seconds."""
        month_end, seconds = as_of.replace(day=1) - datetime.timedelta(days=1), {}
        ends = []
        for _month in range(months):
            ends.insert(0, month_end)
            month_end = aggregate.previous_month_end(month_end)
        self._spread_openings(as_of)
        for end in ends:
            seconds = self._steps_timed(aggregate.month_end_steps(month_end=end))
        # Past days: the night's rows for the date, shifted back a day at a time (volume, not history), from
        # the day before the first night's (which has its own rows).
        with connection.cursor() as cursor:
            for back in range(2, 31 * months + 1):
                cursor.execute(
                    f"INSERT INTO {LineDay._meta.db_table} (as_of, product_id, policy_id, bucket, stage, team_id, "
                    "agency_id, lines, principal_fen, overdue_fen) SELECT %s, product_id, policy_id, bucket, stage, "
                    f"team_id, agency_id, lines, principal_fen, overdue_fen FROM {LineDay._meta.db_table} WHERE as_of = %s",
                    [as_of - datetime.timedelta(days=back), as_of],
                )
                cursor.execute(
                    f"INSERT INTO {RecoveryDay._meta.db_table} (day, entered_on, stage, product_id, policy_id, team_id, "
                    "agency_id, entered, assigned_fen, collected_fen, collecting, held, paid, reaged, settled, "
                    "written_off, closed, escalated) SELECT %s, %s, stage, product_id, policy_id, team_id, agency_id, "
                    "entered, assigned_fen, collected_fen, collecting, held, paid, reaged, settled, written_off, "
                    f"closed, escalated FROM {RecoveryDay._meta.db_table} WHERE day = %s AND entered_on = %s",
                    [as_of - datetime.timedelta(days=back), as_of - datetime.timedelta(days=back), as_of, as_of],
                )
                self._people_day_copied(cursor, as_of - datetime.timedelta(days=back), as_of)
        return seconds

    def _people_day_copied(self, cursor: object, day: datetime.date, as_of: datetime.date) -> None:
        """Copy the night's people rows (the day before ``as_of``) to ``day``: volume for the people reports."""
        table, columns = PeopleDay._meta.db_table, [f.column for f in PeopleDay._meta.concrete_fields[2:]]
        cursor.execute(
            f"INSERT INTO {table} (day, {', '.join(columns)}) SELECT %s, {', '.join(columns)} FROM {table} WHERE day = %s",
            [day, as_of - datetime.timedelta(days=1)],
        )

    def _spread_openings(self, as_of: datetime.date) -> None:
        """Open the synthetic lines over the past two years, so that each month end has its cohorts."""
        table = CreditLine._meta.db_table
        if connection.vendor == "postgresql":
            opened = "%s::date - (id %% 730)::int"
        else:
            opened = "date(%s, '-' || (id %% 730) || ' days')"
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET opened_on = {opened}", [as_of])

    def _client(self) -> Client:
        user, _created = User.objects.get_or_create(username=_BENCH_USER, defaults={"is_staff": True})
        user.groups.add(Group.objects.get(name=SUPERVISOR))
        client = Client(HTTP_X_FORWARDED_PROTO="https")  # as a browser behind the TLS proxy
        client.force_login(user)
        return client

    def _opened(self, client: Client, url: str) -> dict:
        """Open ``url`` a few times; return the median time and the queries of one opening."""
        timings, queries = [], 0
        for _opening in range(_OPENINGS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}.")
            queries = len(captured)
        return {"median_ms": round(statistics.median(timings) * 1000, 1), "queries": queries}

    def _reports(self) -> dict:
        client = self._client()
        return {name: self._opened(client, reverse("report", args=[name])) for name in REPORTS}

    def _dashboard(self) -> dict:
        return self._opened(self._client(), reverse("dashboard"))
