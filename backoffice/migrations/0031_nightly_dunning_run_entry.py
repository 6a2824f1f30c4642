from django.conf import settings
from django.db import migrations

NIGHT_TASK = "backoffice.night.start"


def create(apps, schema_editor):
    """Schedule the night at 00:10 business time (TIME_ZONE), once: afterwards it is changed in the admin."""
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    if periodic_task.objects.filter(task=NIGHT_TASK).exists():
        return
    crontab, _created = apps.get_model("django_celery_beat", "CrontabSchedule").objects.get_or_create(
        minute="10", hour="0", day_of_month="*", month_of_year="*", day_of_week="*", timezone=settings.TIME_ZONE
    )
    periodic_task.objects.create(
        name="Nightly dunning run",
        task=NIGHT_TASK,
        crontab=crontab,
        description="The daily dunning run for the business date that has just begun, then the night's other work.",
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=NIGHT_TASK).delete()


class Migration(migrations.Migration):
    """The night's entry in beat's schedule: 00:10 business time, editable in the admin from then on."""

    dependencies = [("backoffice", "0030_legal_retries_letter_rendering"), ("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(create, remove)]
