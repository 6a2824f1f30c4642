"""With a broker, letters are rendered by a real Celery worker through the ``letters`` queue of the local Redis,
against this test's PostgreSQL database; a letter that cannot be rendered is tried three times, then waits
for a person, whose retry from the admin goes through the queue again."""

import datetime
import io
import json
import os
import re
import secrets
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from pypdf import PdfReader

from backoffice import celery_app
from letters.choices import LetterStatus
from letters.models import Letter
from tests.factories import overdue_line
from tests.letters.conftest import publish_to_the_tests_redis
from tests.letters.test_render_queue import break_snapshot
from tests.worker import BROKER, ROOT, redis_or_skip, running_worker, worker_environment

AS_OF = datetime.date(2026, 3, 20)
pytestmark = pytest.mark.django_db(transaction=True)


def settled_within(seconds: float, done: callable) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.3)
    return done()


def text_of(letter: Letter) -> str:
    with letter.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def draft_for_lines(run_dunning, count: int) -> list[Letter]:
    """Draft the night's letters for ``count`` cases entering legal; return them (committed)."""
    for _line in range(count):
        overdue_line(due=datetime.date(2026, 1, 10))
    assert run_dunning(AS_OF).letters_drafted == count
    return list(Letter.objects.order_by("id"))


def test_letters_drafted_and_committed_are_rendered_by_a_worker_through_the_letters_queue(
    on_postgres, shipped_data, firm, broker, run_dunning, settings, tmp_path
):
    letters = draft_for_lines(run_dunning, 2)  # committed: the night's drafts go to the queue on commit
    # This process only published: nothing is rendered here.
    assert {(letter.status, letter.render_attempts, bool(letter.pdf)) for letter in letters} == {
        (LetterStatus.DRAFT, 0, False)
    }
    assert broker.llen("letters") == 1  # one task: both letters in one chunk
    # No sweep while the worker runs: only the task queued on commit can render them.
    env = worker_environment(MEDIA_ROOT=str(settings.MEDIA_ROOT), LETTERS_RENDER_SWEEP_SECONDS="3600")
    with running_worker(tmp_path, "letters", env) as log:
        pending = Letter.objects.filter(status=LetterStatus.PENDING_APPROVAL)
        rendered = settled_within(120, lambda: pending.count() == len(letters))
    output = log.read_text()
    assert rendered, output[-3000:]
    assert "Task letters.render[" in output
    assert "Task letters.render_sweep[" not in output
    assert "Letters' fonts loaded in the worker's parent process" in output
    for letter in Letter.objects.order_by("id"):
        assert letter.render_attempts == 1
        assert len(letter.pdf_sha256) == 64
        assert letter.number in text_of(letter)


def test_a_letter_that_fails_to_render_is_tried_three_times_by_the_worker_then_waits_for_a_retry_from_the_admin(
    on_postgres, shipped_data, firm, legal, run_dunning, settings, monkeypatch, tmp_path, client
):
    redis_or_skip()
    assert settings.CELERY_BROKER_URL is None  # drafted here without a broker: the worker's sweep finds them
    broken, fine = draft_for_lines(run_dunning, 2)
    break_snapshot(broken)
    env = worker_environment(
        MEDIA_ROOT=str(settings.MEDIA_ROOT), LETTERS_RENDER_SWEEP_SECONDS="1", LETTERS_RENDER_LEASE_SECONDS="1"
    )
    with running_worker(tmp_path, "letters-failing", env) as log:
        failed = Letter.objects.filter(pk=broken.pk, status=LetterStatus.RENDER_FAILED)
        settled = settled_within(120, lambda: failed.exists() and Letter.objects.get(pk=fine.pk).pdf)
        output = log.read_text()
        assert settled, output[-3000:]
        broken.refresh_from_db()
        assert (broken.render_attempts, broken.render_error) == (3, "KeyError: 'verify_url'")
        assert Letter.objects.get(pk=fine.pk).status == LetterStatus.PENDING_APPROVAL
        assert "Task letters.render_sweep[" in output
        assert output.count(f"Letter {broken.number} not rendered") == 3

        client.force_login(legal)
        changelist = reverse("admin:letters_letter_changelist")
        listed = client.get(changelist, {"rendering": "failed"}).content.decode()
        assert broken.number in listed
        assert fine.number not in listed
        assert "Rendering failed (1)" in listed
        # Fixed (the address it prints is put back), then retried: with a broker, through the queue again.
        snapshot = {**broken.snapshot, "letter": {**broken.snapshot["letter"], "verify_url": "http://127.0.0.1/v/"}}
        Letter.objects.filter(pk=broken.pk).update(snapshot=snapshot)
        publish_to_the_tests_redis(settings, monkeypatch)
        selected = {"action": "retry_rendering", "_selected_action": [str(broken.pk)]}
        assert client.post(changelist, selected).status_code == 200
        client.post(changelist, {**selected, "confirm": "yes"})
        retried = Letter.objects.get(pk=broken.pk)
        assert (retried.render_retried_by, retried.render_error) == (legal, "")
        pending = Letter.objects.filter(pk=broken.pk, status=LetterStatus.PENDING_APPROVAL)
        assert settled_within(60, pending.exists), log.read_text()[-3000:]
    assert Letter.objects.get(pk=broken.pk).render_attempts == 1
    assert broken.number in text_of(Letter.objects.get(pk=broken.pk))


def test_the_plain_worker_command_on_the_letters_queue_recycles_its_processes(on_postgres, broker, settings, tmp_path):
    name = f"letters-shape-{secrets.token_hex(3)}@{os.uname().nodename}"
    log = (tmp_path / "shape.log").open("w")
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            *(sys.executable, "-m", "celery", "-A", "backoffice", "worker", "-Q", "letters"),
            *("--concurrency", "1", "-n", name, "--loglevel=INFO"),
        ],
        cwd=ROOT,
        env=worker_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with celery_app.connection_for_write(BROKER) as connection:
            inspect = celery_app.control.inspect(destination=[name], timeout=2, connection=connection)
            assert settled_within(60, lambda: bool(inspect.ping())), (tmp_path / "shape.log").read_text()[-3000:]
            stats, conf = inspect.stats()[name], inspect.conf()[name]
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
    assert stats["pool"]["max-tasks-per-child"] == 1000 // 25
    assert conf["worker_max_memory_per_child"] == 400 * 1024
    assert "Letters' fonts loaded in the worker's parent process" in (tmp_path / "shape.log").read_text()


def test_bench_letters_through_the_queue_renders_on_a_letters_worker_and_prints_its_figures(
    on_postgres, shipped_data, broker, settings, monkeypatch, capsys
):
    # The bench's worker inherits this environment: this test's database, broker and media folder.
    for name, value in worker_environment(MEDIA_ROOT=str(settings.MEDIA_ROOT)).items():
        monkeypatch.setenv(name, value)
    call_command("bench_letters", "--workers", "1", "--count", "3", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert (figures["letters"], figures["rendered"], figures["failed"], figures["workers"]) == (3, 3, 0, 1)
    assert figures["letters_per_second"] > 0
    assert figures["broker"] == BROKER
    assert not Letter.objects.exists()  # the bench deletes what it drafted


def test_bench_letters_refuses_fewer_than_one_worker_naming_the_value():
    with pytest.raises(CommandError, match=r"^--workers 0: must be at least 1"):
        call_command("bench_letters", "--workers", "0")
