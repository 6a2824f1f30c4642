"""``manage.py run_dunning``: the daily dunning run."""

import datetime
import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import CreditLine
from backoffice.kernel.progress import progress_bar
from backoffice.night import broker_mode, dunning_run, night_open
from backoffice.night.tasks import night_continue
from cases.choices import BatchStatus, RunStatus
from cases.dunning.lease import DunningRunLocked
from cases.dunning.models import DunningBatch, DunningRun

# How often, waiting for the workers, the command looks at the run's batches.
_POLL_SECONDS = 1.0


def _as_of(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of {value!r} is not a date in the form YYYY-MM-DD.") from None


class Command(BaseCommand):
    """Open, escalate and resolve cases for every credit line as of a business date."""

    help = "Open, escalate and resolve collection cases as of a date (default: today)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --as-of, --dry-run, --json and --batch-size."""
        parser.add_argument("--as-of", type=str, default=None, help="Business date YYYY-MM-DD (default: today).")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument("--json", action="store_true", help="Print the summary as one JSON object.")
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Credit lines per transaction (default: DUNNING_BATCH_SIZE)."
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="With a broker: print the run's id once its tasks are queued instead of waiting for the workers.",
        )

    def handle(self, *args: object, **options: object) -> None:
        """Run, showing progress on a terminal, and print the summary."""
        as_of = _as_of(options["as_of"]) if options["as_of"] else timezone.localdate()
        batch_size = options["batch_size"] or settings.DUNNING_BATCH_SIZE
        if batch_size < 1:
            raise CommandError(f"--batch-size {batch_size} must be at least 1.")
        bounds = CreditLine.objects.aggregate(first=Min("id"), last=Max("id"))
        total = (bounds["last"] - bounds["first"] + 1) if bounds["first"] is not None else 0
        # A dry run writes nothing but its record: it runs here, with or without a broker.
        through_broker = broker_mode() and not options["dry_run"]
        with progress_bar(total=total, description=f"Dunning {as_of}", unit="lines") as bar:
            try:
                if through_broker:
                    run = night_open(as_of=as_of, batch_size=batch_size)
                else:
                    run = dunning_run(
                        as_of=as_of, batch_size=batch_size, dry_run=options["dry_run"], on_batch=bar.update
                    )
            except DunningRunLocked as exc:
                raise CommandError(str(exc)) from None
            if through_broker:
                night_continue(run.pk)
                if options["no_wait"]:
                    self.stdout.write(f"Dunning run {run.pk} as of {as_of} is queued for the workers.")
                    return
                run = self._wait(run, bar.update)
        if run.status != RunStatus.FINISHED:
            raise CommandError(f"Dunning run {run.pk} as of {as_of} ended {run.status}: {run.error}")
        self._report(run.summary(), as_json=options["json"])

    def _wait(self, run: DunningRun, on_lines: object) -> DunningRun:
        """Follow the workers' progress on the run's batches until the run ends; return it."""
        shown = 0
        while run.status == RunStatus.RUNNING:
            time.sleep(_POLL_SECONDS)
            run.refresh_from_db()
            done = DunningBatch.objects.filter(run=run, status=BatchStatus.DONE).values_list("first_id", "last_id")
            lines = sum(last - first + 1 for first, last in done)
            on_lines(lines - shown)
            shown = lines
        return run

    def _report(self, summary: dict, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(summary))
            return
        prefix = "Dry run — would have: " if summary["dry_run"] else ""
        escalated = ", ".join(f"{stage} {count}" for stage, count in summary["escalated"].items())
        self.stdout.write(
            f"{prefix}Dunning run as of {summary['as_of']}: opened {summary['opened']}, "
            f"escalated ({escalated}), holds ended {summary['holds_ended']}, resolved {summary['resolved']}, "
            f"unchanged {summary['unchanged']}, lines frozen {summary['lines_frozen']}; "
            f"{summary['lines_examined']} lines examined in {summary['seconds']:.2f} s; "
            f"{summary.get('letters_drafted', 0)} letters drafted, {summary.get('assigned', 0)} cases assigned, "
            f"{summary.get('settlements_completed', 0)} settlements completed, "
            f"{summary.get('recalled', 0)} cases recalled from agencies."
        )
