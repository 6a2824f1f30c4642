"""Collections screens, one module per sub-domain; importing them registers them with the admin site."""

from cases.admin import (  # noqa: F401
    agencies,
    casework,
    contacts,
    dunning,
    letters,
    outreach,
    promises,
    settlements,
    workload,
)
from cases.admin.casework import CaseAdmin
from cases.admin.workload import MyCaseAdmin

__all__ = ["CaseAdmin", "MyCaseAdmin"]
