"""Named reads of contacts: which rule pack a case follows, and who a reported contact may name as its agent."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from cases.agencies.models import agency_id_of
from cases.casework.models import Case
from cases.contacts.models import RulePack

# Who makes contacts: the collection agent, agency agent and supervisor roles (``backoffice.kernel.roles``).
LOG_CONTACT_PERMISSION = "cases.add_contact"


def rule_pack_for(case: Case) -> RulePack:
    """Return the collection rules the case's product follows (the China pack when its policy names none)."""
    return case.credit_line.product.policy.rule_pack or RulePack.objects.get(code="cn-default")


def contact_agents_by_username(
    usernames: set[str], *, reporter: AbstractBaseUser | None
) -> dict[str, AbstractBaseUser]:
    """Return the users that contacts reported by ``reporter`` (None: the system) may name as their agent, by username.

    The one rule of the contact import and the telephony API: the agent is a back-office (staff)
    user who may log contacts, through a role or their own permissions, or a superuser. Whether
    they are still active is not asked: the agent who made a call may have left since, and the call
    is still theirs. An agency's user reports their own agency's people only.
    """
    user_model = get_user_model()
    field_name = user_model.USERNAME_FIELD
    users = user_model.objects.with_perm(
        LOG_CONTACT_PERMISSION, is_active=None, backend="django.contrib.auth.backends.ModelBackend"
    ).filter(is_staff=True, **{f"{field_name}__in": usernames})
    agency_id = agency_id_of(reporter) if reporter is not None else None
    if agency_id is not None:
        # An agency cannot put its calls on the lender's staff.
        users = users.filter(agency_membership__agency_id=agency_id)
    return {getattr(user, field_name): user for user in users}
