"""The project app's models, kept in the kernel where every app can reach them: the API clients and their
idempotency keys (with the API's authentication), the outbox of events and the webhooks that push them out,
the changes waiting for a second person; and the holder of the report permissions of the composition layer."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.api.idempotency import IdempotencyKey
from backoffice.kernel.api.models import ApiClient
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.events import Event
from backoffice.kernel.files.models import StoredFile
from backoffice.kernel.people import Deactivation
from backoffice.kernel.signin.models import SignInFailure
from backoffice.kernel.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from backoffice.reports.compliance_models import ComplianceDay
from backoffice.reports.models import EntryObservation, FlowCell, LineDay, MonthEndPosition, PeopleDay, VintageCell
from backoffice.reports.models_recovery import LetterDay, LetterPaid, RecoveryDay, StageEntry, StageExit
from backoffice.reports.threshold_models import DashboardThreshold

__all__ = [
    "ApiClient",
    "ChangeProposal",
    "ComplianceDay",
    "DashboardThreshold",
    "Deactivation",
    "EntryObservation",
    "Event",
    "FlowCell",
    "IdempotencyKey",
    "LetterDay",
    "LetterPaid",
    "LineDay",
    "MonthEndPosition",
    "PeopleDay",
    "RecoveryDay",
    "Report",
    "SignInFailure",
    "StageEntry",
    "StageExit",
    "StoredFile",
    "VintageCell",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]


class Report(models.Model):
    """No table: the permissions to read the reports that span the apps (the reconciliation)."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        permissions = [
            ("view_reconciliation", _("Can see the reconciliation of what came in and went out")),
            ("view_reports", _("Can read the supervisors' reports and the morning dashboard")),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
