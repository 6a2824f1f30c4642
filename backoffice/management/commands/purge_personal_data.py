"""``manage.py purge_personal_data``: the retention policy's purge (``backoffice.retention``)."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from backoffice.kernel.progress import progress_bar
from backoffice.retention import PurgeCounts, cutoffs, personal_data_purge, purge_plan


class Command(BaseCommand):
    """Anonymise the customers, letters and contacts past their retention, and delete expired API answers."""

    help = (
        "Replace expired personal data by a marker (customers with their history, letters, contacts) and delete "
        "expired idempotency keys' stored answers; the ledger's amounts stay. Run it from cron, daily or weekly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --dry-run."""
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; change nothing.")

    def handle(self, *args: object, **options: object) -> None:
        """Say what the policy is, then purge (showing progress on a terminal) or, in a dry run, count."""
        now = timezone.localtime()
        self._policy(now)
        plan = purge_plan(now)
        if options["dry_run"]:
            self._counts("Dry run, nothing changed. Would anonymise or delete", plan)
            return
        with progress_bar(total=plan.total(), description="Personal data purged", unit="records") as bar:
            done = personal_data_purge(now=now, advance=bar.update)
        self._counts("Anonymised or deleted", done)

    def _policy(self, now: datetime.datetime) -> None:
        limits = cutoffs(now)
        self.stdout.write(
            f"Customers: {settings.RETENTION_CUSTOMER_YEARS} years after all ended (before {limits.customers:%Y-%m-%d}); "
            f"letters: {settings.RETENTION_LETTER_YEARS} years after their case closed (before {limits.letters:%Y-%m-%d}); "
            f"contacts: {settings.RETENTION_CONTACT_YEARS} years (before {limits.contacts:%Y-%m-%d}); "
            f"API answers: {settings.API_IDEMPOTENCY_HOURS} hours."
        )

    def _counts(self, prefix: str, counts: PurgeCounts) -> None:
        self.stdout.write(
            f"{prefix}: {counts.customers} customers (with their history), {counts.letters} letters, "
            f"{counts.contacts} contacts, {counts.api_answers} stored API answers."
        )
