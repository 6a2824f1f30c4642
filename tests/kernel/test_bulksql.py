"""Set-wise writes over arrays: every value comes back as sent, whatever characters it holds, on both databases."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.ingest import PaymentRow, ReversalRow, payments_post, payments_reverse
from accounts.ingest_writes import PAYMENT_COLUMNS
from accounts.models import Customer, Payment
from backoffice.kernel.bulksql import hash_grouping, insert_new_rows, members, update_rows
from tests.factories import BillFactory, CreditLineFactory

pytestmark = pytest.mark.django_db

NOON = timezone.make_aware(datetime.datetime(2026, 3, 1, 12, 0))
# What an array literal or its quoting could get wrong: quotes, backslashes, braces, commas, NULL, spaces, Chinese.
AWKWARD = ['PAY"1', "PAY\\2", "PAY{3}", "PAY,4", "NULL", " PAY 5 ", "付款六"]


def test_payments_with_awkward_references_are_recorded_and_reversed_as_sent_with_their_history():
    line = CreditLineFactory(opened_on=datetime.date(2026, 1, 1))
    BillFactory(credit_line=line, due_date=datetime.date(2026, 2, 10), principal_due_fen=100_000)
    rows = [
        PaymentRow(
            credit_line=line.number,
            external_reference=reference,
            amount="1.00",
            channel="alipay",
            received_at=NOON + datetime.timedelta(minutes=n),
        )
        for n, reference in enumerate(AWKWARD)
    ]
    posted = payments_post(rows=rows, actor=None)
    assert [payment.external_reference for payment in posted] == AWKWARD
    assert sorted(Payment.objects.values_list("external_reference", flat=True)) == sorted(AWKWARD)
    assert sorted(Payment.history.values_list("external_reference", flat=True)) == sorted(AWKWARD)

    note = 'Bounced: "insufficient funds"\nback\\slash, {braces} 退票'
    reversals = payments_reverse(
        rows=[
            ReversalRow(
                payment=AWKWARD[0],
                external_reference="REV{1}",
                reason="bounced",
                reversed_at=NOON + datetime.timedelta(hours=1),
                note=note,
            )
        ],
        actor=None,
    )
    reversal = Payment.objects.get(pk=reversals[0].payment_id)
    assert (reversal.external_reference, reversal.reversal_note) == ("REV{1}", note)
    assert Payment.history.get(id=reversal.pk).reversal_note == note


def test_an_insert_skips_the_rows_present_and_returns_those_it_inserted():
    line = CreditLineFactory()
    columns = PAYMENT_COLUMNS

    def payment(reference):
        return (line.pk, reference, 100, 0, "alipay", NOON, NOON.date(), NOON, None, "", "", None)

    first = insert_new_rows(
        Payment._meta.db_table,
        columns,
        [payment("A"), payment("B")],
        unique="external_reference",
        returning=["external_reference"],
    )
    again = insert_new_rows(
        Payment._meta.db_table,
        columns,
        [payment("B"), payment("C")],
        unique="external_reference",
        returning=["external_reference"],
    )
    assert sorted(first) == [("A",), ("B",)]
    assert again == [("C",)]
    assert Payment.objects.get(external_reference="C").received_at == NOON


def test_an_update_writes_only_the_rows_whose_guard_still_holds():
    kept, changed = CreditLineFactory(), CreditLineFactory()
    updated = update_rows(
        "accounts_creditline",
        key=("id", "bigint"),
        guard=("status", "text"),
        columns=[("status", "text"), ("held_frozen", "boolean")],
        rows=[(kept.pk, "active", "frozen", True), (changed.pk, "closed", "frozen", True)],
    )
    assert updated == {kept.pk}
    kept.refresh_from_db()
    changed.refresh_from_db()
    assert (kept.status, kept.held_frozen) == ("frozen", True)
    assert (changed.status, changed.held_frozen) == ("active", False)


def test_members_finds_ids_and_texts_however_many():
    customers = [CreditLineFactory().customer for _n in range(3)]
    ids = [customer.pk for customer in customers]
    assert sorted(Customer.objects.filter(pk__in=members([*ids, 10**12])).values_list("pk", flat=True)) == sorted(ids)
    names = [customer.national_id for customer in customers]
    found = Customer.objects.filter(national_id__in=members([*names, 'x"{,}'], "text"))
    assert sorted(found.values_list("pk", flat=True)) == sorted(ids)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_hash_grouping_stops_sorting_only_for_the_statements_inside_it():
    def sorts() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_sort")
            return cursor.fetchone()[0]

    with transaction.atomic():
        with hash_grouping():
            assert sorts() == "off"
        assert sorts() == "on"
    assert sorts() == "on"
    # A statement that fails inside it: its own error comes out, and the savepoint's rollback undoes the setting.
    with transaction.atomic():
        with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic(), hash_grouping():
            connection.cursor().execute("SELECT 1 / 0")
        assert sorts() == "on"
