"""Edits of a dunning policy (stage thresholds, the legal minimum, freezing, holds) wait for a second supervisor."""

from django.utils.translation import gettext_lazy as _

from backoffice.kernel.approvals.edits import edit_kind
from backoffice.kernel.approvals.kinds import register
from cases.dunning.models import DunningPolicy
from cases.dunning.services import dunning_policy_update

DUNNING_POLICY_CHANGE = "dunning_policy_change"


def register_kinds() -> None:
    """Register the dunning policies' kind of change."""
    register(
        edit_kind(
            code=DUNNING_POLICY_CHANGE,
            label=_("Change a dunning policy"),
            model=DunningPolicy,
            permission="cases.change_dunningpolicy",
            update=lambda obj, **edit: dunning_policy_update(policy=obj, **edit),
        )
    )
