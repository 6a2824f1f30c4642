"""``manage.py send_letters``: e-mail the letters whose try is due (cron, where no Celery beat runs)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from letters.dispatch import letters_send_due
from letters.selectors import letters_queued_for_email


class Command(BaseCommand):
    """Send what is due once, and say what is left."""

    help = "E-mail every approved letter whose try is due; refused ones are tried again later."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --limit."""
        parser.add_argument(
            "--limit",
            type=int,
            default=settings.LETTERS_SEND_BATCH,
            help="Letters to try at most (default: %(default)s).",
        )

    def handle(self, *args: object, **options: object) -> None:
        """Send, then report."""
        if options["limit"] < 1:
            raise CommandError(f"--limit {options['limit']} must be at least 1.")
        sent = letters_send_due(limit=options["limit"])
        waiting = letters_queued_for_email().count()
        self.stdout.write(f"Sent {sent} letter(s) by e-mail; {waiting} queued for a later try.")
