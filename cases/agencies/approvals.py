"""An agency's status, contract and commission, and who works for it, change only once a second supervisor approves."""

from django.contrib.auth.models import AbstractBaseUser, User
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.approvals.edits import edit_kind
from backoffice.kernel.approvals.kinds import ChangeKind, Values, register
from backoffice.kernel.approvals.models import ChangeProposal
from backoffice.kernel.approvals.services import change_propose
from cases.agencies.models import Agency, AgencyMember
from cases.agencies.services import agency_members_set, agency_update

AGENCY_CHANGE = "agency_change"
AGENCY_MEMBERS_CHANGE = "agency_members_change"


def _members(agency: Agency | None) -> Values:
    if agency is None:
        return {"members": []}
    return {"members": sorted(AgencyMember.objects.filter(agency=agency).values_list("user_id", flat=True))}


def _show(name: str, value: object) -> object:
    if name != "members" or not value:
        return value
    return ", ".join(sorted(User.objects.filter(pk__in=value).values_list("username", flat=True)))


def _apply_members(agency: Agency, proposal: ChangeProposal, actor: AbstractBaseUser) -> Agency:
    return agency_members_set(agency=agency, user_ids=proposal.proposed["members"], actor=actor)


def agency_members_propose(*, agency: Agency, user_ids: list[int], actor: AbstractBaseUser) -> ChangeProposal:
    """Propose that exactly these logins work for the agency; a second supervisor approves."""
    proposed = {"members": sorted(set(user_ids))}
    return change_propose(kind=AGENCY_MEMBERS_CHANGE, target=agency, proposed=proposed, actor=actor)


def register_kinds() -> None:
    """Register the agencies' kinds of change."""
    register(
        edit_kind(
            code=AGENCY_CHANGE,
            label=_("Change an agency's status, contract or commission"),
            model=Agency,
            permission="cases.change_agency",
            update=lambda obj, **edit: agency_update(agency=obj, **edit),
        )
    )
    register(
        ChangeKind(
            code=AGENCY_MEMBERS_CHANGE,
            label=_("Change who works for an agency"),
            model=Agency,
            propose_permission="cases.change_agencymember",
            approve_permission="cases.change_agencymember",
            current=_members,
            apply=_apply_members,
            labels={"members": _("agency users")},
            show=_show,
        )
    )
