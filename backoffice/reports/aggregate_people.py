"""The night's people step: one business day's cases in hand, money, contacts and promises per holder, set-wise.

The night of ``as_of`` runs just after midnight, so the day it writes is the one that has just ended
(``as_of`` − 1), as the entry rate reads the day before. The rows come from ``cases.workload.holding``
(the holder rule, and each source of events), summed by product, agent, team and agency in one
``INSERT … SELECT``; the day is written whole or not at all, so a re-run changes nothing.
"""

import datetime

from django.db import connection, transaction

from backoffice.kernel.bulksql import jit_off
from backoffice.reports.models import PeopleDay
from cases.workload.holding import MEASURES, day_sources, with_team_sql

_KEYS = ("product_id", "agent_id", "team_id", "agency_id")


def people_write(*, day: datetime.date) -> int:
    """Write ``day``'s rows per product and holder unless the day has some already; return the rows written."""
    sources, params = with_team_sql(*day_sources(day))
    sums = ", ".join(f"SUM(s.{measure})" for measure in MEASURES)
    table = PeopleDay._meta.db_table
    sql = (
        f"INSERT INTO {table} (day, {', '.join(_KEYS)}, {', '.join(MEASURES)}) "
        f"SELECT %s, {', '.join(f's.{key}' for key in _KEYS)}, {sums} FROM ({sources}) s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE day = %s) "
        f"GROUP BY {', '.join(f's.{key}' for key in _KEYS)} "
        "ON CONFLICT DO NOTHING"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        jit_off()  # its many small subplans take the JIT seconds to compile and milliseconds to run
        cursor.execute(sql, [day, *params, day])
        return max(cursor.rowcount, 0)


def people_write_for_night(*, as_of: datetime.date) -> int:
    """Write the day the night of ``as_of`` closes (the day before); return the rows written."""
    return people_write(day=as_of - datetime.timedelta(days=1))
