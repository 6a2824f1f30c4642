"""Start-up refuses bad environment values with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Not passed on: the test run's own (the browser tests allow async-unsafe calls, which a deployment must not).
UNSET = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def start(**env):
    environment = {k: v for k, v in os.environ.items() if k not in UNSET}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEBUG": "maybe", "SECRET_KEY": "k"}, "DEBUG='maybe'"),
        ({"DEBUG": "false"}, "SECRET_KEY is required"),
        ({"DEBUG": "true", "TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE='Mars/Olympus'"),
        ({"DEBUG": "true", "LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE='fr'"),
        ({"DEBUG": "true", "DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL="),
        ({"DEBUG": "true", "PORT": "http"}, "PORT='http'"),
        (
            {"DEBUG": "true", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32,10.1.2.3/8"},
            "WEBHOOK_ALLOWED_NETWORKS: '10.1.2.3/8'",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(env, named):
    result = start(**env)
    assert result.returncode != 0
    assert named in result.stderr


REAL_KEY = "k7Qm2vX9pL4sR8tW1yZ3bN6cF0hJ5dG2aE9uI4oP7kM1nB3vC8xQ"


def test_good_settings_start():
    result = start(DEBUG="false", SECRET_KEY=REAL_KEY, ALLOWED_HOSTS="backoffice.example")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "key", ["a-real-secret", "x" * 49, "insecure-development-key-only-for-debug"], ids=["short", "49", "demo"]
)
def test_a_short_or_the_demo_secret_key_is_refused_with_debug_off(key):
    result = start(DEBUG="false", SECRET_KEY=key, ALLOWED_HOSTS="backoffice.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters and not the demo's own" in result.stderr
    assert key not in result.stderr  # the key itself is never printed


def test_the_deployment_checks_pass_with_nothing_but_debug_off_a_key_and_hosts():
    environment = {k: v for k, v in os.environ.items() if k not in UNSET}
    environment.update(DEBUG="false", SECRET_KEY=REAL_KEY, ALLOWED_HOSTS="backoffice.example")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout
