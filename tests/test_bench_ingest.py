"""The ingest benchmark runs on an empty ledger, prints the figures it promises, and leaves the ledger empty."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import CreditLine, Payment
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db


def test_bench_ingest_prints_its_figures_and_cleans_up(capsys, shipped_data):
    # shipped_data: a transactional database, as the portfolio builder vacuums what it wrote on PostgreSQL
    call_command("bench_ingest", "--payments", "1200", "--import-rows", "3000", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert {"payments_per_second", "queries_per_request", "replay_seconds", "replay_inserted"} <= figures.keys()
    assert figures["import_rows_per_second"] > 0
    assert figures["payments"] == 100
    assert figures["replay_inserted"] == 0
    assert set(figures["queries_per_request"]) == {"100", "1000"}
    assert not CreditLine.objects.exists()
    assert not Payment.objects.exists()


def test_bench_ingest_refuses_a_ledger_that_is_not_empty():
    overdue_line(due=datetime.date(2026, 1, 10))
    with pytest.raises(CommandError, match="empty ledger"):
        call_command("bench_ingest", "--payments", "1200")


def test_bench_ingest_refuses_fewer_payments_than_its_counted_requests_need():
    with pytest.raises(CommandError, match=r"^--payments 1000: must be at least 1200"):
        call_command("bench_ingest", "--payments", "1000")
