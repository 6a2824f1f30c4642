"""The night's letters step: yesterday's letters by step of the funnel, and what their cases paid.

The night of ``as_of`` writes the day before it whole: the letters drafted, approved, sent, rejected and
cancelled that day by firm, template version and product, with the reasons and the legal cost of those sent
(``LetterDay``); and, for every letter sent in the 30 days up to that day, what its case paid that day net of
reversals (``LetterPaid``). A payment counts for each letter its case was sent in the 30 days before it; a
reversal counts on its own date, so one within the 30 days takes its payment back and one after does not.
Each statement writes its day only if the day has no rows yet, so a re-run changes nothing.
"""

import dataclasses
import datetime
from collections.abc import Callable

from django.db import connection, transaction

from accounts.models import CreditLine, Payment
from backoffice.kernel.bulksql import jit_off, values_table
from backoffice.reports.aggregate_recovery import day_bounds
from backoffice.reports.models_recovery import LetterDay, LetterPaid, LetterStep
from cases.models import Case
from letters.models import LawFirm, Letter
from letters.selectors import PAID_WITHIN_DAYS

_REASON_LENGTH = 200


@dataclasses.dataclass(frozen=True)
class _Tables:
    letter: str = Letter._meta.db_table
    firm: str = LawFirm._meta.db_table
    case: str = Case._meta.db_table
    line: str = CreditLine._meta.db_table
    payment: str = Payment._meta.db_table
    day: str = LetterDay._meta.db_table
    paid: str = LetterPaid._meta.db_table


T = _Tables()


def _execute(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _case_number_sql() -> str:
    """Return SQL for the letter's case number as people quote it (``C00000042``), as the reasons carry it."""
    if connection.vendor == "postgresql":
        return "('C' || CASE WHEN c.id < 100000000 THEN lpad(c.id::text, 8, '0') ELSE c.id::text END)"
    return "printf('C%%08d', c.id)"


def _reason_sql(column: str) -> str:
    """Return SQL for a reason with the case's own number taken out, so that the same reason groups."""
    return f"SUBSTR(REPLACE(COALESCE(l.{column}, ''), {_case_number_sql()}, '…'), 1, {_REASON_LENGTH})"


def _step_rows(step: str, moment: str, *, reason: str = "''", cost: str = "0") -> str:
    """Return the letters that reached ``step`` in the day (``moment`` in its bounds: 2 parameters)."""
    return (
        f"SELECT '{step}' AS step, COALESCE(l.firm_id, 0) AS firm_id, l.template_id, ln.product_id, "
        f"{reason} AS reason, {cost} AS cost FROM {T.letter} l JOIN {T.case} c ON c.id = l.case_id "
        f"JOIN {T.line} ln ON ln.id = c.credit_line_id LEFT JOIN {T.firm} f ON f.id = l.firm_id "
        f"WHERE l.{moment} >= %s AND l.{moment} < %s"
    )


def letter_days_write(*, day: datetime.date) -> int:
    """Write the letters of ``day`` by step, firm, template, product and reason; return the rows written."""
    steps = [
        _step_rows(LetterStep.DRAFTED, "requested_at"),
        _step_rows(LetterStep.APPROVED, "approved_at"),
        _step_rows(LetterStep.SENT, "sent_at", cost="COALESCE(f.cost_per_letter_fen, 0)"),
        _step_rows(LetterStep.REJECTED, "rejected_at", reason=_reason_sql("rejection_reason")),
        _step_rows(LetterStep.CANCELLED, "cancelled_at", reason=_reason_sql("cancellation_reason")),
    ]
    sql = (
        f"INSERT INTO {T.day} (day, step, firm_id, template_id, product_id, reason, letters, cost_fen) "
        f"SELECT %s, step, firm_id, template_id, product_id, reason, COUNT(*), SUM(cost) FROM ({' UNION ALL '.join(steps)}) s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {T.day} WHERE day = %s) "
        "GROUP BY step, firm_id, template_id, product_id, reason ON CONFLICT DO NOTHING"
    )
    return _execute(sql, [day, *day_bounds(day) * len(steps), day])


def _sending_days(day: datetime.date) -> tuple[str, list[object]]:
    """Return a derived table of the 30 sending dates followed on ``day``, with each one's bounds."""
    rows = []
    for back in range(PAID_WITHIN_DAYS):
        sent_on = day - datetime.timedelta(days=back)
        rows.append((sent_on, *day_bounds(sent_on)))
    column_type = "timestamptz" if connection.vendor == "postgresql" else "text"
    return values_table([("sent_on", "date"), ("starts", column_type), ("ends", column_type)], rows)


def letters_paid_write(*, day: datetime.date) -> int:
    """Write what the cases of the letters sent in the 30 days up to ``day`` paid on it; return the rows written."""
    days, day_params = _sending_days(day)
    paid = f"SELECT SUM(p.amount_fen) FROM {T.payment} p WHERE p.credit_line_id = c.credit_line_id"
    per_letter = (
        f"SELECT s.sent_on, COALESCE(l.firm_id, 0) AS firm_id, l.template_id, ln.product_id, "
        f"({paid} AND p.received_on = %s) AS today, "
        f"COALESCE(({paid} AND p.received_on >= s.sent_on AND p.received_on < %s), 0) AS before "
        f"FROM {T.letter} l JOIN {days} s ON l.sent_at >= s.starts AND l.sent_at < s.ends "
        f"JOIN {T.case} c ON c.id = l.case_id JOIN {T.line} ln ON ln.id = c.credit_line_id"
    )
    turned = "(CASE WHEN w.before + w.today > 0 THEN 1 ELSE 0 END) - (CASE WHEN w.before > 0 THEN 1 ELSE 0 END)"
    sql = (
        f"INSERT INTO {T.paid} (day, sent_on, firm_id, template_id, product_id, recovered_fen, paying) "
        f"SELECT %s, w.sent_on, w.firm_id, w.template_id, w.product_id, SUM(w.today), SUM({turned}) "
        f"FROM ({per_letter}) w WHERE w.today IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {T.paid} WHERE day = %s) "
        "GROUP BY w.sent_on, w.firm_id, w.template_id, w.product_id ON CONFLICT DO NOTHING"
    )
    return _execute(sql, [day, day, day, *day_params, day])


def letters_steps(*, as_of: datetime.date) -> list[tuple[str, Callable[[], int]]]:
    """Return the letters step's statements for the night of ``as_of`` (the day before it), by name, in order."""
    day = as_of - datetime.timedelta(days=1)
    return [
        ("letters_days", lambda: letter_days_write(day=day)),
        ("letters_paid", lambda: letters_paid_write(day=day)),
    ]


def letters_aggregate(*, as_of: datetime.date) -> int:
    """Write the letters funnel's figures of the day before ``as_of`` (the night's step); return the rows written."""
    with transaction.atomic():
        jit_off()
        return sum(step() for _name, step in letters_steps(as_of=as_of))
