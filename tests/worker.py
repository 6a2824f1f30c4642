"""A real Celery worker process (with its beat) on the local Redis, against this test's PostgreSQL database."""

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
BROKER = "redis://127.0.0.1:6379/5"  # a database of the local Redis used by these tests only


def redis_or_skip() -> redis.Redis:
    """Return the tests' Redis database, emptied; skip without Redis, except in CI."""
    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("needs Redis on 127.0.0.1:6379 (.ci/run starts it)")
    client.flushdb()
    return client


def worker_environment(**extra: str) -> dict[str, str]:
    """Return a worker's environment: this test's database, the tests' broker, polls every second."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    return {
        **os.environ,
        "DATABASE_URL": url,  # the test database, where this test's committed rows are
        "CELERY_BROKER_URL": BROKER,
        "SECRET_KEY": os.environ["SECRET_KEY"],  # the test run's own key
        "WEBHOOK_POLL_SECONDS": "1",
        "MESSAGE_POLL_SECONDS": "1",
        "DEBUG": "false",
        **extra,
    }


@contextlib.contextmanager
def running_worker(tmp_path: Path, name: str, env: dict[str, str]) -> Iterator[Path]:
    """Run ``celery worker --beat`` until the block ends; yield the path of its log."""
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("w")
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            *(sys.executable, "-m", "celery", "-A", "backoffice", "worker", "--pool=solo", "--beat"),
            *("--schedule", str(tmp_path / f"{name}-beat-schedule"), "--loglevel=INFO"),
            *("-Q", "celery,letters,dispatch,messages"),
            *("-n", f"{name}-{uuid.uuid4().hex[:6]}@%h"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield log_path
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
