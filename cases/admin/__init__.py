"""Collections screens, one module per area; importing them registers them with the admin site."""

from cases.admin import case, contacts, queue, records, workbench  # noqa: F401
from cases.admin.case import CaseAdmin
from cases.admin.queue import MyCaseAdmin

__all__ = ["CaseAdmin", "MyCaseAdmin"]
