"""The migration that gives credit lines and bills their arrival time fills it in for the rows already stored."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import valid_national_id

BEFORE = [("accounts", "0006_payment_reversal")]


def local(*parts: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*parts))


@pytest.mark.django_db(transaction=True)
def test_stored_bills_get_their_first_history_time_and_lines_their_opening_day_but_not_before_their_customer(
    shipped_data,
):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    customer_model, line_model = old.get_model("accounts", "Customer"), old.get_model("accounts", "CreditLine")
    bill_model, history = old.get_model("accounts", "Bill"), old.get_model("accounts", "HistoricalBill")
    policy = old.get_model("cases", "DunningPolicy").objects.get(code="standard")
    product = old.get_model("accounts", "Product").objects.create(code="p-m", name="白条", policy=policy)
    early, late = (
        customer_model.objects.create(name=name, national_id=valid_national_id(), mobile=mobile)
        for name, mobile in (("王伟", "13800000001"), ("李娜", "13800000002"))
    )
    customer_model.objects.filter(pk=early.pk).update(created_at=local(2026, 1, 1, 12))
    customer_model.objects.filter(pk=late.pk).update(created_at=local(2026, 6, 1, 10))
    fed = line_model.objects.create(
        number="CL-FED", customer=early, product=product, limit_fen=0, opened_on=datetime.date(2026, 3, 1)
    )
    line_model.objects.create(
        number="CL-LOADED", customer=late, product=product, limit_fen=0, opened_on=datetime.date(2020, 1, 1)
    )
    recorded, unrecorded = (
        bill_model.objects.create(credit_line=fed, due_date=due, principal_due_fen=100)
        for due in (datetime.date(2026, 4, 10), datetime.date(2026, 5, 10))
    )
    history.objects.create(
        id=recorded.pk,
        credit_line_id=fed.pk,
        due_date=recorded.due_date,
        principal_due_fen=100,
        history_date=local(2026, 3, 2, 9),
        history_type="+",
    )
    started = timezone.now()

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    new = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps
    lines = dict(new.get_model("accounts", "CreditLine").objects.values_list("number", "created_at"))
    assert lines == {"CL-FED": local(2026, 3, 1, 0), "CL-LOADED": local(2026, 6, 1, 10)}
    bills = dict(new.get_model("accounts", "Bill").objects.values_list("pk", "created_at"))
    assert bills[recorded.pk] == local(2026, 3, 2, 9)
    assert bills[unrecorded.pk] >= started  # no record of it: the migration's time
