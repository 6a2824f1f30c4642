"""Judge promises to pay, set-wise, at the start of each dunning run.

A promise is kept once the payments recorded since it was made, received by its date plus the
policy's grace, cover its amount; it is broken when that day has passed without. A broken
promise adds to the case's ``broken_promises``, which raises its priority in the queue; the
hold the promise put on the case ends on the same day, so escalation resumes.
"""

import datetime

from django.db import connection, transaction

from accounts.models import Payment
from cases.choices import PromiseStatus
from cases.models import Case, Promise

_PROMISE, _CASE, _PAYMENT = Promise._meta.db_table, Case._meta.db_table, Payment._meta.db_table


def _covered_sql() -> str:
    return f"""(SELECT COALESCE(SUM(p.amount_fen), 0) FROM {_PAYMENT} p JOIN {_CASE} c ON c.credit_line_id = p.credit_line_id
                 WHERE c.id = {_PROMISE}.case_id AND p.recorded_at >= {_PROMISE}.created_at
                   AND p.received_on <= {_PROMISE}.grace_until) >= {_PROMISE}.amount_fen"""


def _scope(case_id: int | None) -> tuple[str, dict]:
    if case_id is None:
        return "", {}
    return f" AND {_PROMISE}.case_id = %(case_id)s", {"case_id": case_id}


def settle_promises(*, as_of: datetime.date, dry_run: bool = False, case_id: int | None = None) -> dict[str, int]:
    """Mark pending promises kept or broken as of ``as_of``; return how many of each (counted only, on a dry run)."""
    scope, extra = _scope(case_id)
    params = {
        "as_of": connection.ops.adapt_datefield_value(as_of),
        "kept": PromiseStatus.KEPT,
        "pending": PromiseStatus.PENDING,
        "broken": PromiseStatus.BROKEN,
        **extra,
    }
    pending = f"{_PROMISE}.status = %(pending)s{scope}"
    kept_where = f"{pending} AND {_covered_sql()}"
    broken_where = f"{pending} AND {_PROMISE}.grace_until < %(as_of)s AND NOT {_covered_sql()}"
    with transaction.atomic(), connection.cursor() as cursor:
        counts = {}
        for name, where in (("kept", kept_where), ("broken", broken_where)):
            cursor.execute(f"SELECT COUNT(*) FROM {_PROMISE} WHERE {where}", params)
            counts[name] = cursor.fetchone()[0]
        if dry_run:
            return counts
        cursor.execute(
            f"UPDATE {_CASE} SET broken_promises = broken_promises + (SELECT COUNT(*) FROM {_PROMISE} WHERE {_PROMISE}.case_id = {_CASE}.id AND {broken_where})"
            f" WHERE id IN (SELECT case_id FROM {_PROMISE} WHERE {broken_where})",
            params,
        )
        cursor.execute(
            f"UPDATE {_PROMISE} SET status = %(broken)s, settled_on = %(as_of)s WHERE {broken_where}", params
        )
        cursor.execute(f"UPDATE {_PROMISE} SET status = %(kept)s, settled_on = %(as_of)s WHERE {kept_where}", params)
    return counts
