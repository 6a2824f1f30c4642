import importlib

import pytest
from django.apps import apps as django_apps
from django_celery_beat.models import PeriodicTask

from backoffice.schedule.entries import night_entry


@pytest.fixture
def night(db) -> PeriodicTask:
    """The night's entry as the data migration made it (made again if a transactional test flushed it)."""
    if night_entry() is None:
        importlib.import_module("backoffice.migrations.0031_nightly_dunning_run_entry").create(django_apps, None)
    return night_entry()
