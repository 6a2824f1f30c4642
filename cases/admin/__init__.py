"""Collections screens, one module per sub-domain; importing them registers them with the admin site."""

from cases.admin import agencies, casework, contacts, dunning, letters, promises, settlements, workload  # noqa: F401
from cases.admin.casework import CaseAdmin
from cases.admin.workload import MyCaseAdmin

__all__ = ["CaseAdmin", "MyCaseAdmin"]
