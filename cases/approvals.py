"""The collections' kinds of change that wait for a second person, one module per sub-domain."""

from cases.contacts import approvals as contacts_approvals
from cases.outreach import approvals as outreach_approvals


def register_kinds() -> None:
    """Register every sub-domain's kinds of change."""
    contacts_approvals.register_kinds()
    outreach_approvals.register_kinds()
