"""The project app's screens: API clients and webhooks, sign-in failures, the changes waiting for a second person,
the dashboard's alert thresholds, beat's schedule, users and roles."""

from backoffice.kernel import users
from backoffice.kernel.api import admin  # noqa: F401 - registers the API clients' admin
from backoffice.kernel.approvals import admin as approvals_admin  # noqa: F401 - registers the queue of changes
from backoffice.kernel.signin import admin as signin_admin  # noqa: F401 - registers the sign-in failures' admin
from backoffice.kernel.webhooks import admin as webhooks_admin  # noqa: F401 - registers the webhooks' admin
from backoffice.reports import admin as reports_admin  # noqa: F401 - registers the alert thresholds' admin
from backoffice.schedule import admin as schedule_admin  # noqa: F401 - replaces django-celery-beat's screens

users.register()
