"""Judge promises to pay, set-wise, at the start of each nightly run.

A promise is kept once the payments recorded since it was made, received by its date plus the
policy's grace, cover its amount; it is broken when that day has passed without. A broken
promise adds to the case's ``broken_promises``, which raises its priority in the queue; the
hold the promise put on the case ends on the same day, so escalation resumes.
"""

import datetime

from django.db import transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery

from accounts.positions import paid_fen_subquery, payments_since
from backoffice.kernel.bulksql import members
from backoffice.kernel.events import EventType, events_record
from cases.casework.models import Case
from cases.choices import PromiseStatus
from cases.promises.models import Promise


def _judged(pending: QuerySet) -> QuerySet:
    paid = payments_since(
        credit_line_id=OuterRef("case__credit_line_id"),
        since=OuterRef("created_at"),
        received_by=OuterRef("grace_until"),
    )
    return pending.annotate(paid=paid_fen_subquery(paid))


def promises_judge(
    *,
    as_of: datetime.date,
    dry_run: bool = False,
    case_id: int | None = None,
    credit_line_ids: list[int] | None = None,
) -> dict[str, int]:
    """Mark pending promises kept or broken as of ``as_of``; return how many of each (counted only, on a dry run).

    ``case_id`` or ``credit_line_ids`` narrow the judging to one case or to the cases of those lines.
    """
    pending = Promise.objects.filter(status=PromiseStatus.PENDING)
    if case_id is not None:
        pending = pending.filter(case_id=case_id)
    if credit_line_ids is not None:
        pending = pending.filter(case__credit_line_id__in=members(credit_line_ids))
    judged = _judged(pending)
    kept = list(judged.filter(paid__gte=F("amount_fen")).values_list("pk", flat=True))
    broken = list(judged.filter(grace_until__lt=as_of, paid__lt=F("amount_fen")).values_list("pk", flat=True))
    if dry_run:
        return {"kept": len(kept), "broken": len(broken)}
    with transaction.atomic():
        per_case = (
            Promise.objects.filter(pk__in=broken, case=OuterRef("pk"))
            .order_by()
            .values("case")
            .annotate(n=Count("pk"))
            .values("n")
        )
        Case.objects.filter(promises__pk__in=broken).distinct().update(
            broken_promises=F("broken_promises") + Subquery(per_case[:1])
        )
        Promise.objects.filter(pk__in=broken).update(status=PromiseStatus.BROKEN, settled_on=as_of)
        Promise.objects.filter(pk__in=kept).update(status=PromiseStatus.KEPT, settled_on=as_of)
        judged_now = Promise.objects.filter(pk__in=kept + broken).values_list(
            "pk", "status", "case_id", "case__credit_line_id"
        )
        events_record(
            (
                EventType.PROMISE_KEPT if status == PromiseStatus.KEPT else EventType.PROMISE_BROKEN,
                case_id,
                line_id,
                {"promise": pk},
            )
            for pk, status, case_id, line_id in judged_now
        )
    return {"kept": len(kept), "broken": len(broken)}
