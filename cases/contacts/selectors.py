"""Named reads of the contact rules: which rule pack a case follows."""

from cases.casework.models import Case
from cases.contacts.models import RulePack


def rule_pack_for(case: Case) -> RulePack:
    """Return the collection rules the case's product follows (the China pack when its policy names none)."""
    return case.credit_line.product.policy.rule_pack or RulePack.objects.get(code="cn-default")
