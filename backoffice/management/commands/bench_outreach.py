"""``manage.py bench_outreach``: time planning a day's messages for N lines, and sending them with two workers."""

import json
import os
import subprocess
import sys
import time
from datetime import time as clock
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from accounts.models import CreditLine
from backoffice.bench import portfolio as bench
from backoffice.bench import require_migrated
from backoffice.kernel.progress import progress_bar
from backoffice.night import dunning_run
from cases.choices import MessageStatus
from cases.contacts.models import RulePack
from cases.dunning.models import DunningPolicy
from cases.outreach.models import Message, ReminderRule
from cases.outreach.plan import messages_plan

_WORKERS = 2
_BENCH_PACK = "bench-all-day"


class _Counter:
    """Count the statements run, per planning batch."""

    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


class Command(BaseCommand):
    """Build N credit lines, run the night, then time the plan of the day's messages and their sending."""

    help = "Benchmark planning and sending messages to customers on N synthetic credit lines (empty ledger needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --lines, --send, --json and --keep."""
        parser.add_argument("--lines", type=int, default=100_000, help="Credit lines to build (default 100000).")
        parser.add_argument("--send", type=int, default=20_000, help="Messages the two workers send (default 20000).")
        parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic portfolio afterwards.")

    def handle(self, *args: object, **options: object) -> None:
        """Run the benchmark and print its figures."""
        require_migrated("bench_outreach")
        if options["lines"] < 1 or options["send"] < 1:
            raise CommandError(f"--lines {options['lines']} and --send {options['send']} must be at least 1.")
        if CreditLine.objects.exists():
            raise CommandError(
                "bench_outreach needs an empty ledger: point DATABASE_URL at a scratch database "
                "(e.g. `make bench-outreach`), migrate it, and run again."
            )
        settings.DEBUG = False
        try:
            figures = self._measure(options["lines"], options["send"])
        finally:
            if not options["keep"]:
                bench.clear_portfolio()
                _forget_bench_cadence()
        if options["json"]:
            self.stdout.write(json.dumps(figures))
        else:
            self.stdout.write(
                f"{figures['lines']} lines: planned {figures['planned']} messages in {figures['plan_seconds']} s "
                f"({figures['plan_statements_per_batch']} statements per batch of {figures['batch_size']} lines); "
                f"{_WORKERS} workers sent {figures['sent']} at {figures['send_per_second']} messages/s."
            )

    def _measure(self, lines: int, send: int) -> dict:
        as_of, batch_size = timezone.localdate(), settings.DUNNING_BATCH_SIZE
        with progress_bar(total=lines, description="Building", unit="lines") as bar:
            bench.build_portfolio(lines=lines, as_of=as_of, on_chunk=bar.update)
        with progress_bar(total=lines, description="Night", unit="lines") as bar:
            dunning_run(as_of=as_of, batch_size=batch_size, on_batch=bar.update)
        _give_bench_cadence()
        counter = _Counter()
        with (
            connection.execute_wrapper(counter),
            progress_bar(total=lines, description="Planning", unit="lines") as bar,
        ):
            started = time.perf_counter()
            planned = messages_plan(as_of=as_of, batch_size=batch_size, on_batch=bar.update)
            plan_seconds = time.perf_counter() - started
        batches = -(-lines // batch_size)
        bench.analyze((Message,))
        sent, send_seconds = self._send(send)
        return {
            "lines": lines,
            "planned": planned,
            "plan_seconds": round(plan_seconds, 2),
            "plan_statements_per_batch": round(counter.statements / batches, 1),
            "batch_size": batch_size,
            "sent": sent,
            "send_seconds": round(send_seconds, 2),
            "send_per_second": round(sent / send_seconds) if send_seconds else 0,
            "workers": _WORKERS,
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        }

    def _send(self, count: int) -> tuple[int, float]:
        """Make ``count`` planned messages due now and let two worker processes send them; return sent, seconds."""
        now = timezone.now()
        planned = Message.objects.filter(status=MessageStatus.PLANNED)
        planned.update(due_at=now + timedelta(days=1))
        due = list(planned.order_by("pk").values_list("pk", flat=True)[:count])
        Message.objects.filter(pk__in=due).update(due_at=now - timedelta(minutes=1))
        per_worker = -(-len(due) // _WORKERS)
        command = [sys.executable, "manage.py", "send_messages", "--limit", str(per_worker)]
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "SMS_PROVIDER": "console",
            "PUSH_PROVIDER": "console",
            "EMAIL_PROVIDER": "console",
        }
        started = time.perf_counter()
        workers = [
            subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env, cwd=settings.BASE_DIR)  # noqa: S603 - our own command
            for _worker in range(_WORKERS)
        ]
        if any(worker.wait() for worker in workers):
            raise CommandError("A sending worker failed; run `manage.py send_messages` to see why.")
        seconds = time.perf_counter() - started
        sent = Message.objects.filter(pk__in=due, status=MessageStatus.SENT).count()
        return sent, seconds


def _database_url() -> str:
    """Return the URL of the database this command uses, for the workers it starts (a test's too)."""
    config = connection.settings_dict
    if connection.vendor != "postgresql":
        return f"sqlite:///{config['NAME']}"
    password = f":{quote(config['PASSWORD'], safe='')}" if config.get("PASSWORD") else ""
    user = f"{quote(config.get('USER') or '', safe='')}{password}@" if config.get("USER") else ""
    host = config.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{host}:{config.get('PORT') or 5432}/{config['NAME']}"


def _bench_pack() -> RulePack:
    """Return a rule pack open all day, so the sending figure does not depend on the hour it is taken."""
    pack, _created = RulePack.objects.get_or_create(
        code=_BENCH_PACK,
        defaults={"name": "Bench (open all day)", "window_start": clock(0, 0), "window_end": clock(23, 59)},
    )
    return pack


def _give_bench_cadence() -> None:
    """Give the bench's policies the shipped policies' cadence (the night's figure was taken without it)."""
    pack = _bench_pack()
    for shipped in DunningPolicy.objects.filter(code__in=["standard", "fast-track"]):
        copy = DunningPolicy.objects.get(code=f"bench-{shipped.code}")
        copy.rule_pack = pack
        copy.save(update_fields=["rule_pack"])
        ReminderRule.objects.filter(policy=copy).delete()
        for rule in ReminderRule.objects.filter(policy=shipped):
            rule.pk, rule.policy = None, copy
            rule.save()


def _forget_bench_cadence() -> None:
    ReminderRule.objects.filter(policy__code__startswith="bench-").delete()
    DunningPolicy.objects.filter(code__startswith="bench-").update(rule_pack=None)
    RulePack.objects.filter(code=_BENCH_PACK).delete()
