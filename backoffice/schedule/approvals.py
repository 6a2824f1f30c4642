"""A change of the night's time, or stopping and starting it, waits for a second supervisor."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import PeriodicTask

from backoffice.kernel.approvals.kinds import ChangeKind, register
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.schedule.entries import night_values
from backoffice.schedule.services import NIGHT_SCHEDULE_CHANGE, night_schedule_update

# Who changes the schedule's entries proposes and approves the night's (never the same person).
SCHEDULE_PERMISSION = "django_celery_beat.change_periodictask"


def _state(entry: PeriodicTask | None) -> dict[str, object]:
    """Everything the change depends on: the entry's task and whole crontab, not only its time."""
    if entry is None:
        return {}
    return {**night_values(entry), "task": entry.task, "crontab": str(entry.crontab)}


def _apply(entry: PeriodicTask, proposal: ChangeProposal, actor: AbstractBaseUser) -> PeriodicTask:
    reason = f"change #{proposal.pk} proposed by user {proposal.maker_id}"
    return night_schedule_update(entry=entry, values=proposal.proposed, actor=actor, reason=reason)


def _show(name: str, value: object) -> object:
    if name == "enabled" and isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def register_kinds() -> None:
    """Register the night's schedule's kind of change."""
    register(
        ChangeKind(
            code=NIGHT_SCHEDULE_CHANGE,
            label=_("Change the night's schedule"),
            model=PeriodicTask,
            propose_permission=SCHEDULE_PERMISSION,
            approve_permission=SCHEDULE_PERMISSION,
            current=night_values,
            state=_state,
            apply=_apply,
            labels={"time": _("time (business time)"), "enabled": _("enabled")},
            show=_show,
        )
    )
