"""Judge promises to pay, set-wise, at the start of each nightly run.

A promise is kept once the payments recorded since it was made, received by its date plus the
policy's grace, cover its amount; it is broken when that day has passed without. A broken
promise adds to the case's ``broken_promises``, which raises its priority in the queue; the
hold the promise put on the case ends on the same day, so escalation resumes.
"""

import datetime
from collections import Counter

from django.db import transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.positions import paid_fen_subquery, payments_since
from backoffice.kernel.bulksql import members
from backoffice.kernel.events import EventType, events_record
from cases.casework.models import Case
from cases.choices import PromiseStatus
from cases.promises.models import Promise
from cases.workload.priority import refresh_queue_ranks


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
    # One read of every pending promise with what was paid towards it, judged here.
    kept, broken = [], []
    for pk, amount_fen, grace_until, paid in _judged(pending).values_list("pk", "amount_fen", "grace_until", "paid"):
        if paid >= amount_fen:
            kept.append(pk)
        elif grace_until < as_of:
            broken.append(pk)
    if dry_run:
        return {"kept": len(kept), "broken": len(broken)}
    with transaction.atomic():
        # Judged here once: the night's judging and a payment's same-day judging may have read the same
        # pending promise; the second to lock it finds it judged and leaves it (and its case's count) alone.
        still = set(
            Promise.objects.select_for_update()
            .filter(pk__in=kept + broken, status=PromiseStatus.PENDING)
            .order_by("pk")  # two judgings lock their promises in one order
            .values_list("pk", flat=True)
        )
        kept, broken = [pk for pk in kept if pk in still], [pk for pk in broken if pk in still]
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


def promises_unkept_count(*, line_ids: list[int], today: datetime.date | None = None) -> int:
    """Count as broken, on each line's open case, the promises kept by money since reversed; return how many.

    Such a promise stays kept (it was judged on what was paid then, and the lender heard so), but
    the customer did not in the end pay it: the case that collects the debt again ranks it as a
    broken promise. Each promise is counted once, whatever reversals follow.
    """
    today = today or timezone.localdate()
    kept = Promise.objects.filter(
        case__credit_line_id__in=set(line_ids), status=PromiseStatus.KEPT, unkept_on__isnull=True
    )
    unkept = list(_judged(kept).filter(paid__lt=F("amount_fen")).values_list("pk", "case__credit_line_id"))
    open_cases = dict(
        Case.objects.open()
        .filter(credit_line_id__in={line_id for _pk, line_id in unkept})
        .values_list("credit_line_id", "pk")
    )
    counted = [(pk, line_id) for pk, line_id in unkept if line_id in open_cases]
    if not counted:
        return 0
    per_line = Counter(line_id for _pk, line_id in counted)
    with transaction.atomic():
        Promise.objects.filter(pk__in=[pk for pk, _line_id in counted]).update(unkept_on=today)
        for n in set(per_line.values()):
            cases = [open_cases[line_id] for line_id, count in per_line.items() if count == n]
            Case.objects.filter(pk__in=cases).update(broken_promises=F("broken_promises") + n)
        refresh_queue_ranks(today=today, case_ids=list(open_cases.values()))
    return len(counted)
