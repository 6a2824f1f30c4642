"""The load test runs end to end at a small scale: the real server, locust, every request type, no error."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Payment
from cases.models import Case, Contact, Promise

REQUEST_TYPES = {
    "sign-in page",
    "sign in",
    "queue",
    "work next case",
    "case page",
    "contact form",
    "log a contact",
    "promise form",
    "record a promise",
    "post payments",
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bench_load_runs_every_request_type_against_the_server_without_an_error(on_postgres, shipped_data, capsys):
    call_command("bench_load", "--cases", "200", "--agents", "3", "--seconds", "30", "--think", "0", "--json")

    figures = json.loads(capsys.readouterr().out)
    assert {"cases", "agents", "seconds", "requests", "requests_total", "errors", "refusals", "logs"} <= figures.keys()
    assert figures["errors"] == 0
    assert set(figures["requests"]) == REQUEST_TYPES
    for name, row in figures["requests"].items():
        assert row["count"] > 0, name
        assert row["errors"] == 0, name
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"], name
    assert figures["requests"]["sign in"]["count"] == 3  # each agent signs in once
    assert Case.objects.open().count() == 200
    assert Contact.objects.exists()
    assert Promise.objects.exists()
    posted = figures["requests"]["post payments"]
    assert Payment.objects.count() == 1000 * (posted["count"] - posted["refusals"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--agents", "0"], r"^--agents 0: must be at least 1\."),
        (["--cases", "10", "--agents", "50"], r"^--cases 10: must be at least --agents \(50\)"),
        (["--seconds", "2"], r"^--seconds 2: must be at least 5\."),
        (["--think", "-1"], r"^--think -1\.0: must be from 0 to 60 seconds\."),
    ],
)
def test_bench_load_refuses_bad_options_naming_them(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("bench_load", *arguments)


def test_bench_load_refuses_sqlite(db):
    if connection.vendor == "postgresql":
        pytest.skip("this run is on PostgreSQL")
    with pytest.raises(CommandError, match=r"^bench_load needs PostgreSQL"):
        call_command("bench_load")
