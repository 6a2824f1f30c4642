"""``manage.py bench_dunning``: time the set-based dunning run against the one-case django-fsm path."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Max, Min
from django.utils import timezone

from accounts.models import CreditLine
from backoffice.bench import portfolio as bench
from backoffice.bench import require_migrated
from backoffice.bench.time_split import time_split
from backoffice.bench.workers import bench_broker, night_through_workers, running_workers, workers_peak_rss_mb
from backoffice.kernel.progress import progress_bar
from backoffice.night import dunning_run
from cases.dunning.models import DunningBatch, DunningRun
from cases.dunning.services import case_apply_dunning
from cases.models import Case

# How many fresh lines the one-case path works through to measure its cost per case.
_SAMPLE = 300


class Command(BaseCommand):
    """Build N credit lines, run the dunning twice, then push a sample through the one-case path."""

    help = "Benchmark the dunning run on N synthetic credit lines (needs an empty ledger; cleans up after)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --lines, --json, --batch-size, --keep and --workers."""
        parser.add_argument("--lines", type=int, default=100_000, help="Credit lines to build (default 100000).")
        parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
        parser.add_argument("--batch-size", type=int, default=None, help="Lines per run batch.")
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic portfolio afterwards.")
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="Run the night through N Celery workers started here, on CELERY_BROKER_URL or redis://127.0.0.1:6379/7.",
        )

    def handle(self, *args: object, **options: object) -> None:
        """Run the benchmark and print its figures."""
        require_migrated("bench_dunning")
        if options["lines"] < 1:
            raise CommandError(f"--lines {options['lines']} must be at least 1.")
        if options["workers"] < 0:
            raise CommandError(f"--workers {options['workers']} must be 0 (this process) or more.")
        if CreditLine.objects.exists():
            raise CommandError(
                "bench_dunning needs an empty ledger: point DATABASE_URL at a scratch database "
                "(e.g. `make bench`), migrate it, and run again."
            )
        # The query log would grow with every statement of a million-line run.
        settings.DEBUG = False
        try:
            figures = self._measure(
                options["lines"], options["batch_size"] or settings.DUNNING_BATCH_SIZE, options["workers"]
            )
        finally:
            if not options["keep"]:
                bench.clear_portfolio()
        self._report(figures, as_json=options["json"])

    def _measure(self, lines: int, batch_size: int, workers: int) -> dict:
        as_of = timezone.localdate()
        with progress_bar(total=lines, description="Building", unit="lines") as bar:
            _ids, build_seconds = bench.timed(
                lambda: bench.build_portfolio(lines=lines, as_of=as_of, on_chunk=bar.update)
            )
        if workers:
            (run, run_seconds), (rerun, rerun_seconds), split = self._through_workers(lines, batch_size, workers, as_of)
        else:
            with progress_bar(total=lines, description="Dunning run", unit="lines") as bar, time_split() as split:
                run, run_seconds = bench.timed(
                    lambda: dunning_run(as_of=as_of, batch_size=batch_size, on_batch=bar.update)
                )
            rerun, rerun_seconds = bench.timed(lambda: dunning_run(as_of=as_of, batch_size=batch_size))
        # With workers: the largest of this process and each worker (measured once they have exited).
        peak = max(bench.peak_rss_mb(), workers_peak_rss_mb() if workers else 0)
        per_case = self._one_case_seconds(as_of)
        changed = run.opened + run.escalated_collection + run.escalated_legal + run.resolved
        one_case_projection = per_case * run.opened
        return {
            "lines": lines,
            "lines_per_second": round(lines / run_seconds),
            "run_seconds": round(run_seconds, 2),
            "rerun_seconds": round(rerun_seconds, 2),
            "rerun_share_of_run": round(rerun_seconds / run_seconds, 3),
            "peak_rss_mb": round(peak, 1),
            "ratio_vs_one_case_path": round(one_case_projection / run_seconds, 1),
            "one_case_ms_per_case": round(per_case * 1000, 2),
            "opened": run.opened,
            "escalated": run.summary()["escalated"],
            "changes": changed,
            "rerun_changes": rerun.opened + rerun.escalated_collection + rerun.escalated_legal + rerun.resolved,
            "build_seconds": round(build_seconds, 1),
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "workers": workers,
            # The first run's time split: CPU of PostgreSQL, the workers and this process, and the database's waits.
            "where_time_goes": {**split.figures(), **self._phases(run)},
        }

    def _through_workers(self, lines: int, batch_size: int, workers: int, as_of: object) -> tuple:
        """Time the night and its same-day re-run through ``workers`` worker processes started for them."""
        broker = bench_broker()
        with running_workers(workers, broker=broker, batch_size=batch_size) as processes:
            with (
                progress_bar(total=lines, description=f"Dunning run, {workers} workers", unit="lines") as bar,
                time_split([process.pid for process in processes]) as split,
            ):
                first = bench.timed(
                    lambda: night_through_workers(
                        broker=broker, as_of=as_of, batch_size=batch_size, on_lines=bar.update
                    )
                )
            again = bench.timed(lambda: night_through_workers(broker=broker, as_of=as_of, batch_size=batch_size))
        return first, again, split

    def _phases(self, run: DunningRun) -> dict:
        """Split the run's wall time into its batches (spread over workers) and the steps around them (run once)."""
        batches = DunningBatch.objects.filter(run=run).aggregate(
            first=Min("started_at"), last=Max("finished_at"), count=Count("id")
        )
        durations = [
            (finished - started).total_seconds()
            for started, finished in DunningBatch.objects.filter(run=run).values_list("started_at", "finished_at")
        ]
        phase = (batches["last"] - batches["first"]).total_seconds()
        return {
            "batches": batches["count"],
            "batch_phase_seconds": round(phase, 2),
            "batch_busy_seconds": round(sum(durations), 2),
            "serial_steps_seconds": round((run.finished_at - run.started_at).total_seconds() - phase, 2),
        }

    def _one_case_seconds(self, as_of: object) -> float:
        """Return the one-case path's seconds per opened case, on fresh lines built like the others."""
        sample = bench.build_portfolio(lines=_SAMPLE * 3, as_of=as_of, seed=2)
        lines = list(CreditLine.objects.filter(pk__in=sample).select_related("product__policy").order_by("id"))
        _done, seconds = bench.timed(lambda: [case_apply_dunning(credit_line=line, as_of=as_of) for line in lines])
        opened = Case.objects.filter(credit_line_id__in=sample).count()
        return seconds / max(opened, 1)

    def _report(self, figures: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(
            f"{figures['lines']} lines on {figures['database']}: run {figures['run_seconds']} s "
            f"({figures['lines_per_second']} lines/s), same-day re-run {figures['rerun_seconds']} s "
            f"({figures['rerun_share_of_run']:.0%} of the run), peak memory {figures['peak_rss_mb']} MB; "
            f"{figures['opened']} cases opened, escalated {figures['escalated']}; one-case django-fsm path "
            f"{figures['one_case_ms_per_case']} ms per case, so the set-based run is "
            f"{figures['ratio_vs_one_case_path']}× faster. (Building the portfolio took {figures['build_seconds']} s.)"
        )
        split = figures["where_time_goes"]
        self.stdout.write(
            f"Where the run's {split['wall_seconds']} s went on {split['cores']} cores "
            f"({split['machine_busy_share']:.0%} busy): PostgreSQL {split['database_cpu_seconds']} s of CPU, "
            f"workers {split['workers_cpu_seconds']} s, this process {split['coordinator_cpu_seconds']} s; "
            f"the database's active backends (backend-seconds): {split['database_backend_seconds']}. "
            f"{split['batches']} batches took {split['batch_phase_seconds']} s "
            f"({split['batch_busy_seconds']} s of batch work), the steps around them {split['serial_steps_seconds']} s."
        )
