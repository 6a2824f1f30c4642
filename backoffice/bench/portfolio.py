"""Build a synthetic portfolio fast, for the benchmarks of the night and of the agents' screens.

The portfolio is written with explicit ids (PostgreSQL ``COPY``, SQLite ``executemany``) in
chunks, so that building a million lines neither takes minutes nor holds them all in memory.
"""

import datetime
import random
import resource
import time
from collections.abc import Callable, Iterator

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Bill, CreditLine, Customer, Product
from accounts.services import product_upsert
from accounts.validators import national_id_check_character
from backoffice.kernel.bulksql import insert_rows
from backoffice.reports.models import EntryObservation, FlowCell, LineDay, MonthEndPosition, PeopleDay, VintageCell
from backoffice.reports.models_recovery import LetterDay, LetterPaid, RecoveryDay, StageEntry, StageExit
from cases.dunning.models import DunningBatch, DunningLease
from cases.models import Case, CaseTransition, DunningPolicy, DunningRun

BENCH_PRODUCTS = [("bench-standard", "standard", 70), ("bench-fast", "fast-track", 30)]
# Share of lines with something overdue on the bench date; the rest are paid up or not yet due.
OVERDUE_SHARE = 0.4
_BILLS = 3

_CUSTOMER_COLUMNS = [
    ("id", "bigint"),
    ("name", "text"),
    ("national_id", "text"),
    ("mobile", "text"),
    ("email", "text"),
    ("address", "text"),
    ("preferred_language", "text"),
    ("time_zone", "text"),
    ("consents_to_calls", "boolean"),
    ("consents_to_sms", "boolean"),
    ("consents_to_email", "boolean"),
    ("do_not_contact", "boolean"),
    ("vulnerable", "boolean"),
    ("created_at", "timestamptz"),
]
_LINE_COLUMNS = [
    ("id", "bigint"),
    ("number", "text"),
    ("customer_id", "bigint"),
    ("product_id", "bigint"),
    ("limit_fen", "bigint"),
    ("status", "text"),
    ("opened_on", "date"),
]
_BILL_COLUMNS = [
    ("credit_line_id", "bigint"),
    ("due_date", "date"),
    ("principal_due_fen", "bigint"),
    ("interest_due_fen", "bigint"),
    ("fees_due_fen", "bigint"),
    ("principal_paid_fen", "bigint"),
    ("interest_paid_fen", "bigint"),
    ("fees_paid_fen", "bigint"),
    ("last_paid_on", "date"),
]


def peak_rss_mb() -> float:
    """Return this process's peak resident memory so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _national_id(serial: int) -> str:
    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=serial // 1000 % 14000)
    first17 = f"110101{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + national_id_check_character(first17)


def _bills(line_id: int, rng: random.Random, as_of: datetime.date, overdue_share: float) -> list[tuple]:
    if rng.random() < overdue_share:
        oldest = as_of - datetime.timedelta(days=rng.randint(1, 120))
        paid_up_to = -1
    else:
        oldest = as_of - datetime.timedelta(days=rng.randint(-25, 60))
        paid_up_to = _BILLS
    rows = []
    for index in range(_BILLS):
        due = oldest + datetime.timedelta(days=30 * index)
        principal = rng.randint(200, 3000) * 100
        interest, fees = principal // 100, 0 if rng.random() < 0.7 else 1500
        if index <= paid_up_to and due < as_of:
            rows.append((line_id, due, principal, interest, fees, principal, interest, fees, due))
        else:
            rows.append((line_id, due, principal, interest, fees, 0, 0, 0, None))
    return rows


def _copy(table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
    if connection.vendor != "postgresql":
        insert_rows(table, columns, rows)
        return
    names = ", ".join(name for name, _type in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _chunk_rows(
    first_id: int, count: int, rng: random.Random, as_of: datetime.date, products: list, overdue_share: float
) -> Iterator:
    now = timezone.now()
    weights = [weight for _code, _policy, weight in BENCH_PRODUCTS]
    customers, lines, bills = [], [], []
    for line_id in range(first_id, first_id + count):
        customers.append(
            (
                line_id,
                f"测试客户{line_id}",
                _national_id(line_id),
                f"139{line_id % 100_000_000:08d}",
                "",
                "",
                "zh-hans",
                "Asia/Shanghai",
                True,
                True,
                True,
                False,
                False,
                now,
            )
        )
        product = rng.choices(products, weights=weights)[0]
        lines.append((line_id, f"BENCH{line_id:09d}", line_id, product.pk, 2_000_000, "active", as_of))
        bills.extend(_bills(line_id, rng, as_of, overdue_share))
    return customers, lines, bills


def _bench_policy(shipped_code: str) -> DunningPolicy:
    # A copy of the shipped policy that names no letter: the night's drafting query still runs,
    # but drafting a hundred thousand letters (``bench_letters`` times letters) does not swamp the figure.
    existing = DunningPolicy.objects.filter(code=f"bench-{shipped_code}").first()
    if existing is not None:
        return existing
    policy = DunningPolicy.objects.get(code=shipped_code)
    policy.pk, policy.code, policy.legal_letter_template = None, f"bench-{shipped_code}", ""
    policy.save()
    return policy


def bench_products() -> list[Product]:
    """Return the bench's products, on copies of the two shipped policies."""
    return [
        product_upsert(code=code, name=code, policy=_bench_policy(policy_code))
        for code, policy_code, _weight in BENCH_PRODUCTS
    ]


def build_portfolio(
    *,
    lines: int,
    as_of: datetime.date,
    seed: int = 1,
    chunk: int = 50_000,
    on_chunk: Callable[[int], None] | None = None,
    overdue_share: float = OVERDUE_SHARE,
) -> range:
    """Write ``lines`` customers, credit lines and three bills each; return the range of line ids.

    ``overdue_share`` of the lines have something overdue on ``as_of`` (1.0: every line, so the night opens a case on each).
    """
    rng, products = random.Random(seed), bench_products()
    first = (CreditLine.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    for start in range(first, first + lines, chunk):
        count = min(chunk, first + lines - start)
        customers, credit_lines, bills = _chunk_rows(start, count, rng, as_of, products, overdue_share)
        with transaction.atomic():
            _copy(Customer._meta.db_table, _CUSTOMER_COLUMNS, customers)
            _copy(CreditLine._meta.db_table, _LINE_COLUMNS, credit_lines)
            _copy(Bill._meta.db_table, _BILL_COLUMNS, bills)
        if on_chunk:
            on_chunk(count)
    _reset_sequences()
    analyze()
    return range(first, first + lines)


def _reset_sequences() -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), [Customer, CreditLine, Bill])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def analyze(models: tuple = (Customer, CreditLine, Bill)) -> None:
    """Vacuum and analyze ``models``' tables, as after any bulk load (the portfolio's, by default).

    Planner statistics as autovacuum would keep them, and (PostgreSQL) a vacuum so that autovacuum
    does not start on millions of fresh rows in the middle of a timed run.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(model._meta.db_table for model in models)
            cursor.execute(f"VACUUM (ANALYZE) {tables}")
        else:
            cursor.execute("ANALYZE")


def clear_portfolio() -> None:
    """Delete every letter, case, run, report aggregate, bill, credit line and customer (the bench needs and leaves an empty ledger)."""
    tables = [
        *(model._meta.db_table for model in (StageExit, StageEntry, RecoveryDay, LetterDay, LetterPaid)),
        *(
            model._meta.db_table
            for model in (LineDay, MonthEndPosition, FlowCell, VintageCell, EntryObservation, PeopleDay)
        ),
        "backoffice_webhookattempt",
        "backoffice_webhookdelivery",
        "backoffice_event",
        "letters_letter",
        "cases_message",
        "cases_complianceincident",
        "cases_contact",
        "cases_promise",
        "cases_caseassignment",
        "accounts_personaldatareveal",
        CaseTransition._meta.db_table,
        Case._meta.db_table,
        DunningBatch._meta.db_table,
        DunningLease._meta.db_table,
        DunningRun._meta.db_table,
        "accounts_paymentallocation",
        "accounts_historicalpayment",
        "accounts_payment",
        "accounts_historicalbill",
        Bill._meta.db_table,
        CreditLine._meta.db_table,
        Customer._meta.db_table,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    Product.objects.filter(code__in=[code for code, _policy, _weight in BENCH_PRODUCTS]).delete()
    DunningPolicy.objects.filter(code__in=[f"bench-{policy}" for _code, policy, _weight in BENCH_PRODUCTS]).delete()


def timed(step: Callable[[], object]) -> tuple[object, float]:
    """Return what ``step`` returned and how many seconds it took."""
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started
