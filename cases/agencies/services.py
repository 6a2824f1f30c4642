"""Placing cases with agencies and taking them back."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.kernel.approvals.edits import edit_apply
from cases.agencies.models import Agency, AgencyMember, Placement
from cases.casework.closing import closed_reason, end_placements
from cases.casework.models import Case
from cases.casework.services import require_reason
from cases.choices import OPEN_STAGES
from cases.contacts.refusals import contact_refusals_record
from cases.workload.services import case_assign


def case_place(*, case: Case, agency: Agency, actor: AbstractBaseUser, today: datetime.date | None = None) -> Placement:
    """Place an open case with an agency approved and under contract today; the in-house assignee lets go."""
    if not actor.has_perm("cases.place_case"):
        raise PermissionDenied(_("You are not allowed to place cases with agencies."))
    today = today or timezone.localdate()
    if refusal := agency.refusal_on(today):
        # No lock is held yet: the refusal is recorded for the compliance report before the placement is refused.
        contact_refusals_record(case_id=case.pk, channel="", rules=["AGENCY_NOT_APPROVED"], actor=actor)
        raise ValidationError(
            {"agency": ValidationError(f"AGENCY_NOT_APPROVED: {refusal}", code="AGENCY_NOT_APPROVED")}
        )
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not locked.is_open:
            raise ValidationError(
                _("Case %(number)s is %(stage)s and cannot be placed.")
                % {"number": locked.number, "stage": locked.get_stage_display()}
            )
        if locked.agency_id is not None:
            raise ValidationError(
                _("Case %(number)s is already placed with %(agency)s; recall it first.")
                % {"number": locked.number, "agency": locked.agency}
            )
        if locked.assignee_id is not None:
            case_assign(case=locked, actor=actor, assignee=None)
        Case.objects.filter(pk=case.pk).update(
            agency=agency, claimed_by=None, claimed_until=None, changed_at=timezone.now()
        )
        placement = Placement.objects.create(case=case, agency=agency, placed_at=timezone.now(), placed_by=actor)
    case.agency, case.assignee = agency, None
    return placement


def case_recall(*, case: Case, actor: AbstractBaseUser | None, reason: str) -> Placement:
    """Take a case back from its agency, with the reason; it returns to the unassigned in-house pool."""
    if actor is not None and not actor.has_perm("cases.place_case"):
        raise PermissionDenied(_("You are not allowed to recall cases from agencies."))
    reason = require_reason(reason)
    with transaction.atomic():
        placement = Placement.objects.select_for_update().filter(case=case, recalled_at__isnull=True).first()
        if placement is None:
            raise ValidationError(_("Case %(number)s is not placed with an agency.") % {"number": case.number})
        end_placements(case_ids=[case.pk], reason=reason, actor=actor)
    placement.refresh_from_db()
    case.agency = None
    return placement


def placements_recall_ended(*, as_of: datetime.date) -> int:
    """Recall, as the system, every case whose agency's contract has ended or which is no longer approved,
    and end the placements of cases closed meanwhile. Return how many placements ended."""
    ended = 0
    over = Placement.objects.filter(recalled_at__isnull=True).filter(
        ~Q(case__stage__in=OPEN_STAGES) | ~Agency.holds_cases_on(as_of, via="agency")
    )
    for placement in over.select_related("agency", "case"):
        if not placement.case.is_open:
            reason = closed_reason(placement.case.stage)
        else:
            reason = placement.agency.refusal_on(as_of)
        if reason:
            case_recall(case=placement.case, actor=None, reason=reason)
            ended += 1
    return ended


def agency_update(*, agency: Agency, values: dict, actor: AbstractBaseUser | None, reason: str = "") -> Agency:
    """Save an approved edit of an agency's status, contract or commission, with the reason in its history."""
    if actor is not None and not actor.has_perm("cases.change_agency"):
        raise PermissionDenied(_("You are not allowed to change agencies."))
    with transaction.atomic():
        return edit_apply(obj=agency, values=values, reason=reason)


def agency_members_set(*, agency: Agency, user_ids: list[int], actor: AbstractBaseUser | None) -> Agency:
    """Make exactly these logins the agency's members (an approved change of its membership).

    A login that works for another agency is refused, naming it: a person works for one agency at most.
    """
    if actor is not None and not actor.has_perm("cases.change_agencymember"):
        raise PermissionDenied(_("You are not allowed to change agency members."))
    with transaction.atomic():
        elsewhere = AgencyMember.objects.filter(user_id__in=user_ids).exclude(agency=agency).select_related("user")
        if taken := [str(member.user) for member in elsewhere]:
            raise ValidationError(
                _("Already a member of another agency: %(users)s.") % {"users": ", ".join(sorted(taken))}
            )
        AgencyMember.objects.filter(agency=agency).exclude(user_id__in=user_ids).delete()
        kept = set(AgencyMember.objects.filter(agency=agency).values_list("user_id", flat=True))
        AgencyMember.objects.bulk_create(
            [AgencyMember(agency=agency, user_id=user_id) for user_id in sorted(set(user_ids) - kept)]
        )
    return agency
