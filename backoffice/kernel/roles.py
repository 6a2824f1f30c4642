"""The roles of the back office and what each may do, by permission codename.

Applied by a data migration; a new permission for a role means a new migration that calls
``apply_roles`` again.
"""

from django.contrib.auth.management import create_permissions

AGENT = "Collection agent"
LEGAL = "Legal reviewer"
SUPERVISOR = "Supervisor"
AGENCY = "Agency agent"
# The second approver, a level above the supervisors, of settlements and write-offs above
# ``SECOND_APPROVAL_ABOVE_FEN``; a supervisor in every other respect.
COLLECTIONS_MANAGER = "Collections manager"

_LEDGER_VIEW = [
    "accounts.view_customer",
    "accounts.view_product",
    "accounts.view_creditline",
    "accounts.view_bill",
    "accounts.view_payment",
    "accounts.view_paymentallocation",
]
_CASES_VIEW = [
    "cases.view_case",
    "cases.view_casetransition",
    "cases.view_dunningpolicy",
    "cases.view_dunningrun",
    "cases.view_reminderrule",
    "cases.view_message",
]

_LETTERS_VIEW = ["letters.view_letter", "letters.view_lettertemplate", "letters.view_lawfirm", "letters.view_lawyer"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENT: [
        *_LEDGER_VIEW,
        *_CASES_VIEW,
        *_LETTERS_VIEW,
        "cases.escalate_case",
        "cases.hold_case",
        "cases.resume_case",
        "cases.view_contact",
        "cases.add_contact",
        "cases.view_mycase",
        "cases.view_promise",
        "cases.add_promise",
        "accounts.reveal_personal_data",
        "letters.request_letter",
        "cases.view_proposal",
        "cases.add_proposal",
    ],
    # An outside agency's collector: works the cases placed with their agency (``visible_to``).
    # No ledger, transition or promise lists: those span every case; the case page shows theirs.
    AGENCY: [
        "cases.view_case",
        "cases.view_contact",
        "cases.add_contact",
        "cases.view_mycase",
        "cases.add_promise",
        "cases.hold_case",
        "accounts.reveal_personal_data",
        "cases.view_message",
    ],
    LEGAL: [
        *_LEDGER_VIEW,
        *_CASES_VIEW,
        *_LETTERS_VIEW,
        # Full numbers only by a reveal with a reason, or a search by the whole number: both recorded.
        "accounts.reveal_personal_data",
        "cases.view_all_cases",
        "letters.approve_letter",
        "letters.dispatch_letter",
        "letters.view_letterawaitingapproval",
        "letters.retry_letter_rendering",
        "letters.request_letter",
        "letters.add_lettertemplate",
        "letters.change_lettertemplate",
        "cases.view_prohibitedphraselist",
        "cases.add_prohibitedphraselist",
        # Legal owns the wording sent to customers, as it owns the letter templates.
        "cases.view_messagetemplate",
        "cases.add_messagetemplate",
        "cases.change_messagetemplate",
        # The changes waiting for a second person: one's own, and those of the kinds one may approve.
        "backoffice.view_changeproposal",
    ],
    SUPERVISOR: [
        *_LETTERS_VIEW,
        "cases.view_contact",
        "cases.add_contact",
        # Supervisors upload a team's or an agency's dialler export, whose calls are other people's.
        "cases.import_contacts_for_others",
        "accounts.view_personaldatareveal",
        "cases.view_caseassignment",
        "cases.view_mycase",
        "cases.view_promise",
        "cases.view_complianceincident",
        "cases.change_complianceincident",
        "cases.view_rulepack",
        "cases.change_rulepack",
        "letters.request_letter",
        *_LEDGER_VIEW,
        *_CASES_VIEW,
        "accounts.reveal_personal_data",
        "cases.view_all_cases",
        "cases.change_case",
        "cases.add_dunningpolicy",
        "cases.change_dunningpolicy",
        "cases.add_reminderrule",
        "cases.change_reminderrule",
        "cases.delete_reminderrule",
        "cases.view_messagetemplate",
        "cases.escalate_case",
        "cases.hold_case",
        "cases.resume_case",
        "cases.settle_case",
        "cases.write_off_case",
        "cases.close_case",
        "cases.view_proposal",
        "cases.add_proposal",
        "cases.decide_proposal",
        "cases.place_case",
        "cases.view_placement",
        "cases.view_agency",
        "cases.add_agency",
        "cases.change_agency",
        "cases.view_agencymember",
        "cases.add_agencymember",
        "cases.change_agencymember",
        "cases.delete_agencymember",
        "cases.view_team",
        "cases.add_team",
        "cases.change_team",
        "backoffice.view_reconciliation",
        "backoffice.view_reports",
        "cases.view_contactrefusal",
        # The morning dashboard's alert thresholds are the supervisors' settings.
        "backoffice.view_dashboardthreshold",
        "backoffice.add_dashboardthreshold",
        "backoffice.change_dashboardthreshold",
        # Supervisors unlock a colleague locked out by failed logins.
        "backoffice.view_signinfailure",
        "backoffice.unlock_signinfailure",
        "backoffice.view_changeproposal",
    ],
}
ROLE_PERMISSIONS[COLLECTIONS_MANAGER] = [*ROLE_PERMISSIONS[SUPERVISOR], "cases.decide_large_proposal"]


def apply_roles(apps: object, schema_editor: object = None) -> None:
    """Create the role groups and give each its permissions as far as they exist yet (a migration operation).

    An earlier role migration runs with today's roles against yesterday's models, so a permission of
    a model not made yet (or since moved to another app) is left for the later migration that applies
    the roles again; ``tests/test_roles.py`` holds the groups to exactly ``ROLE_PERMISSIONS``.
    """
    for app_config in apps.get_app_configs():
        # Permissions are normally created after all migrations; make sure ours exist now.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permissions.extend(permission_model.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)
