"""Who may read the supervisors' reports."""

PERMISSION = "backoffice.view_reports"


def may_read_reports(user: object) -> bool:
    """Return whether the person may read the reports (supervisors and superusers; never agents or agencies)."""
    return user.is_active and user.is_staff and user.has_perm(PERMISSION)
