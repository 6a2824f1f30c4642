"""The credit line's row lock: whoever writes from what a line owes holds it, from before the read until the commit.

Payments, reversals and bill amendments lock their lines ``FOR UPDATE`` before they change the
bills, and bring the lines' cases up to date (the same day) before they commit. The dunning run's
batches and the one-case path lock theirs ``FOR NO KEY UPDATE`` before they read the bills and
the case that the case's figures, stage and opening come from. So a night batch that meets a
payment on one of its lines waits for it and then reads what it paid, or the payment waits for the
batch and its refresh reads what the batch wrote; neither writes a case from a read the other made
stale. A person's stage change takes the line too, before the case, as the others do: it may
freeze, unfreeze or charge off the line once the case is saved. So do a contact and a promise to
pay, which write their case twice: PostgreSQL then checks the case's key to its line at commit
(``FOR KEY SHARE``), which a payment holding the line ``FOR UPDATE`` would not let through while it
waited for the case.

``FOR NO KEY UPDATE`` conflicts with ``FOR UPDATE`` and with itself, so these writers take turns
per line, but not with ``FOR KEY SHARE``, which PostgreSQL takes on the line for each row inserted
with a foreign key to it: such inserts do not queue behind a night batch. It is also what the
batch's own freeze of a line takes, so the batch does not upgrade its lock to freeze.

A set of lines is always locked in id order, in one statement, as ``payments_post`` locks its own:
two holders of overlapping sets queue one behind the other and never deadlock.

SQLite has no row locks and needs none: its transactions here are IMMEDIATE (see the settings),
so a transaction that writes holds the whole database from its first statement to its commit, and
a night batch and a payment cannot interleave at all.
"""

from collections.abc import Sequence

from django.db import connection

from accounts.models import CreditLine
from backoffice.kernel.bulksql import member_of


def _lock(where: str, params: list[object], *, for_update: bool) -> None:
    if not connection.features.has_select_for_update:
        return
    mode = "UPDATE" if for_update else "NO KEY UPDATE"
    # Counted in the database: the lock needs the rows read, not sent.
    sql = f"""SELECT count(*) FROM (
                SELECT 1 FROM {CreditLine._meta.db_table} WHERE {where} ORDER BY id FOR {mode}
              ) locked"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def credit_line_range_lock(*, first_id: int, last_id: int) -> None:
    """Lock the credit lines with ids in ``[first_id, last_id]`` until the transaction ends.

    ``FOR NO KEY UPDATE``, for writers of cases (a dunning batch). Nothing on SQLite (see above).
    """
    _lock("id >= %s AND id <= %s", [first_id, last_id], for_update=False)


def credit_lines_lock(*, line_ids: Sequence[int], for_update: bool = False) -> None:
    """Lock these credit lines until the transaction ends, in id order.

    ``FOR NO KEY UPDATE`` for writers of cases; ``for_update`` for writers of the ledger, who take
    ``FOR UPDATE`` on each line they change. Nothing on SQLite (see above).
    """
    ids = sorted(set(line_ids))
    if ids:
        condition, params = member_of("id", ids)
        _lock(condition, params, for_update=for_update)
