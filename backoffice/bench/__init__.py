"""Benchmarks of the whole product: synthetic portfolios and the timings the performance targets are checked by."""

from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def require_migrated(command: str) -> None:
    """Refuse, in one line, to benchmark a database that is missing migrations (instead of a traceback later)."""
    executor = MigrationExecutor(connection)
    missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if missing:
        raise CommandError(
            f"{command} needs a migrated database: {len(missing)} migrations are not applied to "
            f"{connection.settings_dict['NAME']}. Run `manage.py migrate` first (the Makefile's bench targets do)."
        )
