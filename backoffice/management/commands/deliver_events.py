"""Publish committed events and deliver every webhook delivery that is due, retries included (cron-able)."""

import os
import sys

from django.core.management.base import BaseCommand, CommandParser

from backoffice.kernel.webhooks.delivery import Summary, deliveries_waiting, webhooks_run


class Command(BaseCommand):
    """``manage.py deliver_events``: run it from cron every minute when there is no broker (and no harm with one)."""

    help = "Publish committed events, make their webhook deliveries, and send every delivery that is due."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--limit``: stop after that many attempts (default: until nothing is due)."""
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many attempts.")

    def handle(self, *args: object, limit: int | None = None, **options: object) -> None:
        """Deliver, with a progress line on a terminal, then say what happened."""
        summary = webhooks_run(runner=f"deliver_events {os.getpid()}", limit=limit, progress=self._progress)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        self.stdout.write(
            f"Published {summary.published} events, made {summary.created} deliveries; "
            f"delivered {summary.delivered}, failed {summary.retried} (to retry), dead {summary.dead}; "
            f"{deliveries_waiting()} pending (due later or behind an earlier event of their case)."
        )

    def _progress(self, summary: Summary) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(
                f"\rattempts: {summary.delivered} delivered, {summary.retried} to retry, {summary.dead} dead"
            )
            sys.stderr.flush()
