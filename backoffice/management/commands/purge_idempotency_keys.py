"""Delete the API's expired idempotency keys and the answers stored with them (they carry personal data).

``purge_personal_data`` does this too, with the rest of the retention policy; this command stays for a
cron that runs it more often than the full purge.
"""

from django.core.management.base import BaseCommand

from backoffice.kernel.api.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    """``manage.py purge_idempotency_keys``: run it from cron, daily or more often."""

    help = "Delete idempotency keys older than API_IDEMPOTENCY_HOURS, with their stored answers."

    def handle(self, *args: object, **options: object) -> None:
        """Purge and say how many went."""
        self.stdout.write(f"{idempotency_keys_purge()} expired idempotency keys deleted.")
