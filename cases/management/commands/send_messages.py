"""Send every message to customers that is due now (cron-able; with a broker, beat and the workers do it)."""

import sys

from django.core.management.base import BaseCommand, CommandParser

from cases.outreach.models import Message
from cases.outreach.services import SendTally, messages_send_due


class Command(BaseCommand):
    """``manage.py send_messages``: run it from cron every minute when there is no broker."""

    help = "Send the SMS, e-mails and app pushes to customers that are due now, checking every rule again."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--limit``: stop after that many messages (default: until nothing is due)."""
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many messages.")

    def handle(self, *args: object, limit: int | None = None, **options: object) -> None:
        """Send chunk by chunk, with a progress line on a terminal, then say what happened."""
        total = messages_send_due(limit=limit, on_chunk=self._progress)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        self.stdout.write(
            f"Sent {total.sent}, stopped by a rule {total.stopped}, cancelled {total.cancelled}, "
            f"waiting for the contact window {total.deferred}, to retry {total.retrying}, failed {total.failed}; "
            f"{Message.objects.unsent().count()} planned."
        )

    def _progress(self, total: SendTally) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\rmessages: {total.sent} sent, {total.stopped} stopped, {total.deferred} waiting")
