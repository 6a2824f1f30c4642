"""The ingest benchmark runs on an empty ledger, prints the figures it promises, and leaves the ledger empty."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import CreditLine, Payment
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db


def test_bench_ingest_prints_its_figures_and_cleans_up(capsys, shipped_data):
    # shipped_data: a transactional database, as the portfolio builder vacuums what it wrote on PostgreSQL
    call_command("bench_ingest", "--payments", "3100", "--import-rows", "3000", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert {"payments_per_second", "queries_per_request", "replay_seconds", "replay_inserted"} <= figures.keys()
    assert figures["import_rows_per_second"] > 0
    assert figures["payments_per_second"] > 0
    assert figures["payments_per_second_one_stream"] > 0
    # one request of 1,000 timed one at a time, and one more at the default streams of the database
    assert figures["payments"] == 2000
    assert figures["streams"] == (1 if connection.vendor == "sqlite" else 2)
    assert figures["replay_inserted"] == 0
    assert set(figures["queries_per_request"]) == {"100", "1000"}
    assert not CreditLine.objects.exists()
    assert not Payment.objects.exists()


def test_bench_ingest_refuses_a_ledger_that_is_not_empty():
    overdue_line(due=datetime.date(2026, 1, 10))
    with pytest.raises(CommandError, match="empty ledger"):
        call_command("bench_ingest", "--payments", "3100")


def test_bench_ingest_refuses_fewer_payments_than_its_counted_requests_need():
    with pytest.raises(CommandError, match=r"^--payments 3000: must be at least 3100"):
        call_command("bench_ingest", "--payments", "3000")


@pytest.mark.parametrize("streams", ["0", "17"])
def test_bench_ingest_refuses_a_number_of_streams_out_of_range(streams):
    with pytest.raises(CommandError, match=rf"^--streams {streams}: must be between 1 and 16"):
        call_command("bench_ingest", "--streams", streams)


def test_bench_ingest_refuses_several_streams_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL takes several writers")
    with pytest.raises(CommandError, match=r"^--streams 2: SQLite takes one writer at a time"):
        call_command("bench_ingest", "--streams", "2")
