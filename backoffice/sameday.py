"""Same-day truth: after payments, their lines' cases show what the nightly run would show for them, now.

The night's own set-wise machinery, restricted to the lines paid: their pending promises are judged
(``promises_judge``), then one batch of the run plans and applies them (``lines_apply``: the same
worklist, plan and writes, so the two cannot disagree). A case with nothing overdue left is resolved
there (its transition, its line unfrozen, its placement and claims ended), and its letters not yet
sent are cancelled with the reason. A fixed number of statements, whatever the number of lines.

What the night does beyond that stays with the night: completing paid settlements, recalling
placements whose agency contract ended, sharing out new cases and drafting letters.

Call it in the transaction that changed the lines' ledger, which holds their locks (``accounts.locks``:
a payment, a reversal, a bill amendment): a night batch locks its range before it reads, so the two
take turns on a line and the one that comes second reads what the first wrote.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.dunning.batch import lines_apply
from cases.outreach.services import messages_cancel_unsent
from cases.promises.judging import promises_judge
from letters.services import letters_cancel_unsent


def lines_refresh(*, line_ids: list[int], as_of: datetime.date | None = None) -> int:
    """Bring the cases of these lines up to date as of today; return how many cases were resolved."""
    ids = sorted(set(line_ids))
    if not ids:
        return 0
    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        promises_judge(as_of=as_of, credit_line_ids=ids)
        _tally, resolved = lines_apply(line_ids=ids, as_of=as_of)
        if resolved:
            letters_cancel_unsent(case_ids=resolved, reason=_("The case was paid in full before the letter was sent."))
        messages_cancel_unsent(line_ids=ids, reason=_("Paid before the message was sent."))
    return len(resolved)
