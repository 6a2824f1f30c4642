"""Is the night late? Not finished by ``NIGHT_DEADLINE`` (business time), or its lease expired unrenewed.

Checked when the supervisors' dashboard is read (its night card shows it) and by beat every
``NIGHT_WATCH_SECONDS`` (``backoffice.night.watch``); each finding is logged as an error, so the
log's alerting hears of a night that stopped even when nobody opens the dashboard.
"""

import datetime
import logging

from django.conf import settings
from django.db.models import Exists
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import RunStatus
from cases.dunning.lease import LEASE_NAME
from cases.dunning.models import DunningLease, DunningRun

logger = logging.getLogger(__name__)


def night_alerts(now: datetime.datetime | None = None) -> list[str]:
    """Return what is wrong with the night as of ``now`` (nothing: an empty list), and log each as an error.

    One small read: the lease's one row, with whether a run of the day has finished (by date).
    """
    now = now or timezone.now()
    local = timezone.localtime(now)
    today, deadline = local.date(), settings.NIGHT_DEADLINE
    finished = DunningRun.objects.filter(as_of=today, dry_run=False, status=RunStatus.FINISHED)
    lease = (
        DunningLease.objects.filter(name=LEASE_NAME)
        .annotate(finished_today=Exists(finished))
        .values("holder", "run_id", "expires_at", "finished_today")
        .first()
    )
    alerts = []
    if local.time() >= deadline and not (lease and lease["finished_today"]):
        alerts.append(
            _("The night of %(day)s had not finished by %(deadline)s.")
            % {"day": today.isoformat(), "deadline": deadline.strftime("%H:%M")}
        )
    if lease and lease["holder"] and lease["expires_at"] and lease["expires_at"] < now:
        alerts.append(
            _("The lease of dunning run %(run)s expired at %(expired)s: nothing has renewed it since.")
            % {
                "run": lease["run_id"] or "-",
                "expired": timezone.localtime(lease["expires_at"]).strftime("%Y-%m-%d %H:%M"),
            }
        )
    for alert in alerts:
        logger.error("%s", alert)
    return alerts
