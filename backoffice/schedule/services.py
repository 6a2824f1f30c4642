"""Every write to the night's entry of beat's schedule: proposing a new time (or stopping it), and the
approved change applied."""

import re

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose
from backoffice.kernel.serving import security_event
from backoffice.schedule.entries import NIGHT_TASK

NIGHT_SCHEDULE_CHANGE = "night_schedule_change"
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def night_schedule_propose(
    *, entry: PeriodicTask, values: dict[str, object], actor: AbstractBaseUser, note: str = ""
) -> ChangeProposal:
    """Propose a new time (``HH:MM``) or enabled flag for the night's entry; nothing changes until a second person approves."""
    if entry.task != NIGHT_TASK:
        raise ValidationError(
            _("Only the night's entry is changed by approval; this is %(name)r.") % {"name": entry.name}
        )
    _checked(values)
    return change_propose(kind=NIGHT_SCHEDULE_CHANGE, target=entry, proposed=values, actor=actor, note=note)


def night_schedule_update(
    *, entry: PeriodicTask, values: dict[str, object], actor: AbstractBaseUser, reason: str = ""
) -> PeriodicTask:
    """Give the night's entry the approved time and enabled flag, and save it (beat picks it up within seconds).

    A crontab row may drive other entries too, so it is never edited: the entry moves to the crontab of
    the new time (found or made), in the entry's own time zone.
    """
    _checked(values)
    with transaction.atomic():
        if "time" in values:
            hour, minute = (str(int(part)) for part in str(values["time"]).split(":"))
            timezone = entry.crontab.timezone if entry.crontab else settings.TIME_ZONE
            entry.crontab = _daily_crontab(hour=hour, minute=minute, timezone=timezone)
        if "enabled" in values:
            entry.enabled = bool(values["enabled"])
        entry.save()
    security_event("schedule_changed", entry_id=entry.pk, actor_id=actor.pk if actor else None, reason=reason)
    return entry


def _checked(values: dict[str, object]) -> None:
    unknown = sorted(set(values) - {"time", "enabled"})
    if unknown:
        raise ValidationError(_("The night's entry has no field %(name)r to change.") % {"name": unknown[0]})
    if "time" in values and not _TIME.match(str(values["time"])):
        raise ValidationError(
            {"time": _("time %(value)r is not a time of day as HH:MM (00:00 to 23:59).") % {"value": values["time"]}}
        )
    if "enabled" in values and not isinstance(values["enabled"], bool):
        raise ValidationError({"enabled": _("enabled %(value)r is not yes or no.") % {"value": values["enabled"]}})


def _daily_crontab(*, hour: str, minute: str, timezone: object) -> CrontabSchedule:
    spec = {"minute": minute, "hour": hour, "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}
    crontab = CrontabSchedule.objects.filter(**spec, timezone=timezone).order_by("pk").first()
    return crontab or CrontabSchedule.objects.create(**spec, timezone=timezone)
