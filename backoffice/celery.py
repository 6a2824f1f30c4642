"""The Celery app: ``celery -A backoffice worker`` and ``celery -A backoffice beat``.

Configured from Django's settings (the ``CELERY_`` ones); used only when ``CELERY_BROKER_URL`` is set.
A worker imports ``backoffice.worker_shape`` at start (``CELERY_IMPORTS``), which shapes a letters worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["backoffice.kernel.webhooks", "cases.outreach"])
