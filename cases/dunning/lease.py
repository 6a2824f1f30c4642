"""One dunning run at a time, for any date: a lease row taken by a conditional write and renewed as the run goes.

The lease is one row (``DunningLease``, name ``night``). Taking it is one ``UPDATE … WHERE the row
is free or its lease has expired``: on PostgreSQL a second writer waits for the first one's row lock
and then finds the condition false; on SQLite writes are serialised. Either way exactly one taker
sees a row updated. The run renews it after each batch and each step (its heartbeat), from any
process or worker; a run whose processes all died stops renewing, and once its lease has expired
the next start takes it over and marks the old run abandoned. Unlike a session lock, it survives
the night being spread over many workers and connections.
"""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import RunStatus
from cases.dunning.models import DunningLease, DunningRun

LEASE_NAME = "night"


class DunningRunLocked(Exception):
    """Another dunning run holds the lease."""

    def __init__(self, lease: DunningLease | None = None) -> None:
        if lease is None or lease.expires_at is None:
            message = _("Another dunning run is in progress; this one stopped without changing anything.")
        else:
            message = _(
                "Another dunning run is in progress (run %(run)s, held by %(holder)s until %(expires)s); "
                "this one stopped without changing anything."
            ) % {
                "run": lease.run_id or "-",
                "holder": lease.holder,
                "expires": timezone.localtime(lease.expires_at).strftime("%Y-%m-%d %H:%M:%S"),
            }
        super().__init__(message)


class DunningLeaseLost(Exception):
    """The run's lease expired and another run took it over: this one must stop."""

    def __init__(self, run_id: int) -> None:
        super().__init__(_("Dunning run %(run)s lost its lease to another run and stopped.") % {"run": run_id})


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=settings.DUNNING_LEASE_SECONDS)


def lease_acquire(*, holder: str) -> None:
    """Take the lease for ``holder`` or raise ``DunningRunLocked``; mark runs left running as abandoned.

    A run still marked running when the lease is free or expired held an earlier lease and died.
    """
    now = timezone.now()
    DunningLease.objects.bulk_create([DunningLease(name=LEASE_NAME)], ignore_conflicts=True)
    free = Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    taken = DunningLease.objects.filter(free, name=LEASE_NAME).update(
        holder=holder, run=None, acquired_at=now, heartbeat_at=now, expires_at=_expiry(now)
    )
    if not taken:
        raise DunningRunLocked(DunningLease.objects.filter(name=LEASE_NAME).first())
    DunningRun.objects.filter(status=RunStatus.RUNNING).update(status=RunStatus.ABANDONED, finished_at=now, step="")


def lease_attach(*, holder: str, run: DunningRun) -> None:
    """Record the run that ``holder``'s lease is for: from now on the run renews and releases it."""
    DunningLease.objects.filter(name=LEASE_NAME, holder=holder).update(run=run)


def lease_renew(*, run_id: int) -> None:
    """Push the lease's expiry back (the run's heartbeat); raise ``DunningLeaseLost`` if it is no longer the run's."""
    now = timezone.now()
    if not DunningLease.objects.filter(name=LEASE_NAME, run_id=run_id).update(
        heartbeat_at=now, expires_at=_expiry(now)
    ):
        raise DunningLeaseLost(run_id)


def lease_release(*, run_id: int) -> None:
    """Free the lease if the run still holds it."""
    DunningLease.objects.filter(name=LEASE_NAME, run_id=run_id).update(holder="", run=None, expires_at=None)
