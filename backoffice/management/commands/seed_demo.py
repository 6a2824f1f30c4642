"""``manage.py seed_demo``: demo logins and a realistic ledger with cases in every stage."""

import datetime
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Customer
from backoffice import demo, demo_changes, demo_people
from backoffice.demo_guard import rows_not_the_demos
from backoffice.kernel.progress import progress_bar


class Command(BaseCommand):
    """Create the demo logins, then (unless present) the demo ledger and its cases."""

    help = (
        "Create demo logins (a superuser `admin` among them, all with a published password) and, unless already "
        "present, demo customers, bills, payments and cases. Runs only with DEBUG on. --reset deletes the ledger "
        "and cases only in a database of the demo's own rows, recognised by the demo's marks: payment references "
        "starting DEMO-, credit lines on the demo's products (baitiao, baitiao-fast, instalment) numbered CL and "
        "twelve digits, customers holding such a line, reveals made by the demo logins; any other row and it "
        "deletes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --customers, --seed, --reset and --no-input."""
        parser.add_argument("--customers", type=int, default=300, help="How many customers (default 300).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for the same data every time.")
        parser.add_argument("--reset", action="store_true", help="Delete the ledger and cases first.")
        parser.add_argument("--no-input", action="store_true", help="Do not ask before --reset deletes data.")

    def handle(self, *args: object, **options: object) -> None:
        """Seed, showing progress on a terminal."""
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo runs only with DEBUG on: it creates logins, a superuser among them, whose password is "
                "published, and --reset deletes the ledger."
            )
        if options["customers"] < 1:
            raise CommandError(f"--customers {options['customers']} must be at least 1.")
        if options["reset"]:
            self._refuse_to_reset_real_data()
        for username, role in demo.demo_users():
            self.stdout.write(f"Demo login {username} ({role}), password {demo.DEMO_PASSWORD}")
        client, token = demo.demo_api_client()
        self.stdout.write(f"Demo API token of {client} (demo only, new at every seed_demo): {token}")
        existing = Customer.objects.count()
        if existing and not options["reset"]:
            self.stdout.write(f"Demo data already present ({existing} customers); use --reset to rebuild it.")
            return
        if existing:
            self._confirm_reset(existing, ask=not options["no_input"])
            demo.reset_demo_data()
        today = timezone.localdate()
        with progress_bar(total=options["customers"], description="Customers", unit="customers") as bar:
            demo.seed_ledger(customers=options["customers"], seed=options["seed"], today=today, on_chunk=bar.update)
        # The firm first: the night drafts the lawyer letter each policy names for the cases it takes to legal.
        demo.demo_law_firm()
        # The nights of the past weeks, so that the demo shows cases since paid (resolved), stage
        # changes and the reminders each night planned and sent, whatever the hour it is opened.
        first = today - datetime.timedelta(days=demo.HISTORY_DAYS)
        demo.demo_contact_preferences(today=today)
        demo.demo_month_ends(today=today)
        runs = demo.demo_nights(today=today, batch_size=settings.DUNNING_BATCH_SIZE)
        demo.demo_casework(today=today)
        demo.demo_workbench(today=today)
        demo.demo_letters()
        demo.demo_history_dated(runs)
        demo.demo_letter_history(today=today, runs=runs)
        demo_people.demo_people(today=today, days=demo.HISTORY_DAYS, seed=options["seed"])
        demo_changes.demo_changes()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {options['customers']} customers; nightly runs from {first} to {runs[-1].as_of} done, "
                f"{sum(run.messages_planned for run in runs)} messages planned and sent, "
                f"{sum(run.letters_drafted for run in runs)} letters drafted (`render_letters` renders them)."
            )
        )

    def _refuse_to_reset_real_data(self) -> None:
        found = rows_not_the_demos()
        if found:
            rows = ", ".join(f"{count} {kind}" for kind, count in found.items())
            raise CommandError(f"Nothing deleted: this database holds rows the demo did not write ({rows}).")

    def _confirm_reset(self, existing: int, *, ask: bool) -> None:
        if not ask or not sys.stdin.isatty():
            return
        answer = input(f"Delete {existing} customers with their lines, bills, payments and cases? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            raise CommandError("Nothing deleted.")
