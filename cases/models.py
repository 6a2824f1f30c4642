"""Every model of the collections app, from the sub-domain that owns it.

The app stays one Django app labelled ``cases``; each sub-package keeps its own models, and this
module gathers them so that migrations and ``from cases.models import Case`` find them.
"""

from cases.agencies.models import Agency, AgencyMember, Placement, agency_id_of
from cases.casework.models import ESCALATION_METHODS, Case, CaseQuerySet, CaseTransition
from cases.casework.numbers import case_id_from_number, case_number
from cases.contacts.models import ComplianceIncident, Contact, ContactRefusal, ProhibitedPhraseList, RulePack
from cases.dunning.models import DunningBatch, DunningLease, DunningPolicy, DunningRun
from cases.outreach.models import Message, MessageTemplate, ReminderRule
from cases.promises.models import Promise
from cases.settlements.models import Proposal
from cases.workload.models import CaseAssignment, MyCase, Team

__all__ = [
    "ESCALATION_METHODS",
    "Agency",
    "AgencyMember",
    "Case",
    "CaseAssignment",
    "CaseQuerySet",
    "CaseTransition",
    "ComplianceIncident",
    "Contact",
    "ContactRefusal",
    "DunningBatch",
    "DunningLease",
    "DunningPolicy",
    "DunningRun",
    "Message",
    "MessageTemplate",
    "MyCase",
    "Placement",
    "ProhibitedPhraseList",
    "Promise",
    "Proposal",
    "ReminderRule",
    "RulePack",
    "Team",
    "agency_id_of",
    "case_id_from_number",
    "case_number",
]
