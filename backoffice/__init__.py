"""The project package; loading it loads the Celery app, so that tasks bind to it."""

from backoffice.celery import app as celery_app

__all__ = ["celery_app"]
