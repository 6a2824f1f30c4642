"""Same-day truth: after a payment, its line's case shows what the nightly run would show for it, now.

A case's overdue balance, days past due and queue rank are recomputed through the one-case path
of the dunning run (the same plan as the night, so the two cannot disagree); a case with nothing
overdue left is resolved there (its transition, its line unfrozen, its placement and claims ended,
its promises judged), and its letters not yet sent are cancelled with the reason.
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CreditLine
from cases.choices import Stage
from cases.dunning.services import case_apply_dunning
from letters.services import letters_cancel_unsent


def lines_refresh(*, line_ids: list[int], as_of: datetime.date | None = None) -> int:
    """Bring the cases of these lines up to date as of today; return how many cases were resolved."""
    as_of = as_of or timezone.localdate()
    resolved = []
    lines = CreditLine.objects.filter(pk__in=sorted(set(line_ids))).select_related("product__policy")
    for line in lines:
        case = case_apply_dunning(credit_line=line, as_of=as_of)
        if case is not None and case.stage == Stage.RESOLVED:
            resolved.append(case.pk)
    if resolved:
        letters_cancel_unsent(case_ids=resolved, reason=_("The case was paid in full before the letter was sent."))
    return len(resolved)
