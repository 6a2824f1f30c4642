"""A benchmark pointed at a database that is not migrated refuses in one line, instead of a traceback mid-run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


ARGUMENTS = {
    "bench_letters": ["--count", "1"],
    "bench_queue": ["--cases", "1"],
    "bench_ingest": ["--payments", "3100"],
    "bench_reports": ["--lines", "1"],
}


@pytest.mark.parametrize("command", sorted(ARGUMENTS))
def test_a_benchmark_on_an_unmigrated_database_says_so_and_what_to_run(command, tmp_path):
    empty = tmp_path / "empty.sqlite3"
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{empty}", "DEBUG": "false"}
    environment.pop("CELERY_BROKER_URL", None)
    finished = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", command, *ARGUMENTS[command]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert f"{command} needs a migrated database" in finished.stderr
    assert str(empty) in finished.stderr
    assert "Traceback" not in finished.stderr
