"""Which entries of beat's schedule are which: the night's, those beat writes back at each start, the rest.

The night's entry is changed only through an approved change; the entries beat writes back from the
settings (the polls) would lose any edit at its next start, so they are shown and not edited; the rest
are the superusers' to manage.
"""

from django.conf import settings
from django.db import models
from django_celery_beat.models import PeriodicTask

NIGHT_TASK = "backoffice.night.start"


def night_entry() -> PeriodicTask | None:
    """Return the night's entry (made by a data migration), or None."""
    return PeriodicTask.objects.select_related("crontab").filter(task=NIGHT_TASK).order_by("pk").first()


def restored_at_start() -> list[str]:
    """Return the names of the entries beat writes back from the settings each time it starts."""
    return list(settings.CELERY_BEAT_SCHEDULE)


def is_night(entry: PeriodicTask) -> bool:
    """Return whether the entry, as stored, runs the night."""
    stored = PeriodicTask.objects.filter(pk=entry.pk).values_list("task", flat=True).first()
    return stored == NIGHT_TASK


def is_restored_at_start(entry: PeriodicTask) -> bool:
    """Return whether beat writes the entry back from the settings at each start."""
    return entry.name in restored_at_start()


def managed_entries() -> models.QuerySet:
    """The entries nobody edits directly: the night's and those restored at each start."""
    return PeriodicTask.objects.filter(models.Q(task=NIGHT_TASK) | models.Q(name__in=restored_at_start()))


def used_by_managed_entry(schedule: models.Model) -> bool:
    """Return whether a schedule (crontab, interval, solar, clocked) drives an entry nobody edits directly."""
    field = {
        "crontabschedule": "crontab",
        "intervalschedule": "interval",
        "solarschedule": "solar",
        "clockedschedule": "clocked",
    }[schedule._meta.model_name]
    return managed_entries().filter(**{field: schedule}).exists()


def night_values(entry: PeriodicTask | None) -> dict[str, object]:
    """Return what a supervisor changes on the night's entry: its time (``HH:MM``, business time) and whether it runs."""
    if entry is None:
        return {}
    return {"time": crontab_time(entry), "enabled": entry.enabled}


def crontab_time(entry: PeriodicTask) -> str:
    """Return the entry's daily time as ``HH:MM``, or the crontab's own text if it is not one time a day."""
    crontab = entry.crontab
    if crontab is None:
        return ""
    if crontab.hour.isdigit() and crontab.minute.isdigit():
        return f"{int(crontab.hour):02d}:{int(crontab.minute):02d}"
    return f"{crontab.hour}:{crontab.minute}"
