"""The collections' kinds of change that wait for a second person, one module per sub-domain."""

from cases.agencies import approvals as agencies_approvals
from cases.casework import approvals as casework_approvals
from cases.contacts import approvals as contacts_approvals
from cases.dunning import approvals as dunning_approvals
from cases.outreach import approvals as outreach_approvals
from cases.settlements import approvals as settlements_approvals


def register_kinds() -> None:
    """Register every sub-domain's kinds of change."""
    sub_domains = (
        agencies_approvals,
        casework_approvals,
        contacts_approvals,
        dunning_approvals,
        outreach_approvals,
        settlements_approvals,
    )
    for sub_domain in sub_domains:
        sub_domain.register_kinds()
