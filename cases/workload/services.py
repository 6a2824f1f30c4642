"""Who works a case: assignment (with its audit row) and *Work next case*."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.casework.models import Case
from cases.choices import Stage
from cases.workload.models import CaseAssignment


def case_assign(*, case: Case, actor: AbstractBaseUser | None, assignee: AbstractBaseUser | None) -> Case:
    """Give the case to ``assignee`` (or to nobody), with an audit row; only the assignee column is written."""
    if actor is not None and not actor.has_perm("cases.change_case"):
        raise PermissionDenied(_("You are not allowed to assign cases."))
    with transaction.atomic():
        previous, agency_id = Case.objects.select_for_update().values_list("assignee_id", "agency_id").get(pk=case.pk)
        if agency_id is not None and assignee is not None:
            raise ValidationError(
                _("Case %(number)s is placed with an agency; recall it before giving it to an agent.")
                % {"number": case.number}
            )
        if previous != (assignee.pk if assignee else None):
            # A claim by someone else ends with the reassignment: the case is no longer theirs to see.
            Case.objects.filter(pk=case.pk).update(
                assignee=assignee, claimed_by=None, claimed_until=None, changed_at=timezone.now()
            )
            CaseAssignment.objects.create(case=case, assigned_from_id=previous, assigned_to=assignee, actor=actor)
    case.assignee = assignee
    return case


# How long "Work next case" keeps a case for the agent who opened it.
CLAIM_MINUTES = 15


def case_claim_next(*, actor: AbstractBaseUser) -> Case | None:
    """Claim and return the highest-priority open case of the actor (or unassigned) that nobody else is working.

    Two agents asking at the same moment get different cases: the candidate row is locked with
    SKIP LOCKED, so the second actor passes over it to the next one.
    """
    now = timezone.now()
    with transaction.atomic():
        candidates = (
            Case.objects.workable_by(actor)
            .exclude(stage=Stage.ON_HOLD)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by=actor))
            .in_queue_order()
        )
        case = candidates.select_for_update(skip_locked=True).first()
        if case is None:
            return None
        case.claimed_by, case.claimed_until = actor, now + datetime.timedelta(minutes=CLAIM_MINUTES)
        Case.objects.filter(pk=case.pk).update(claimed_by=actor, claimed_until=case.claimed_until)
    return case
