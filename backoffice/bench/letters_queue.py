"""Letters rendered through the ``letters`` queue by a real prefork worker, for ``bench_letters --workers``.

The bench drafts its own letters (one legal case each, on a synthetic portfolio), queues them in
chunks as the drafting does, starts ``celery worker -Q letters --concurrency N``, waits until every
letter is rendered, and deletes what it made, PDFs included.
"""

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from faker import Faker

from accounts.models import Bill, CreditLine, Customer
from backoffice.bench.portfolio import build_portfolio
from backoffice.celery import app as celery_app
from cases.choices import Stage
from cases.models import Case
from letters.choices import LetterStatus
from letters.documents import sample_snapshot, verify_url
from letters.models import Letter, LetterTemplate
from letters.render_queue import RENDER_TASK, id_chunks, waiting_to_render

ROOT = Path(__file__).resolve().parents[2]
# A database of the local Redis that the tests (5) do not use.
DEFAULT_BROKER = "redis://127.0.0.1:6379/8"


def bench_broker() -> str:
    """Return the broker the bench uses: ``CELERY_BROKER_URL``, else the local Redis's database 8."""
    return settings.CELERY_BROKER_URL or DEFAULT_BROKER


def draft_letters(template: LetterTemplate, count: int) -> list[int]:
    """Write ``count`` draft letters of ``template``, each on its own legal case; return their ids."""
    lines = build_portfolio(lines=count, as_of=timezone.localdate(), seed=11)
    now, today = timezone.now(), timezone.localdate()
    Case.objects.bulk_create(
        Case(
            credit_line_id=line_id,
            customer_id=line_id,
            stage=Stage.LEGAL,
            days_past_due=70,
            balance_fen=100_000,
            opened_on=today,
            opened_at=now,
        )
        for line_id in lines
    )
    cases = list(Case.objects.filter(credit_line_id__in=lines).order_by("id").values_list("id", flat=True))
    fake, run = Faker("zh_CN"), secrets.token_hex(2).upper()
    fake.seed_instance(7)
    letters = []
    for index, case_id in enumerate(cases):
        number, snapshot = f"LB-{run}-{index + 1:06d}", sample_snapshot(template)
        snapshot["letter"].update(number=number, verify_url=verify_url(number, "BENCH"))
        snapshot["addressee"] = {"name": fake.name(), "address": fake.address().replace("\n", " ")}
        letters.append(
            Letter(
                number=number,
                verification_code="BENCH",
                case_id=case_id,
                template=template,
                kind=template.kind,
                language=template.language,
                firm=template.firm,
                snapshot=snapshot,
                requested_at=now,
                render_queued_at=now,
            )
        )
    return [letter.pk for letter in Letter.objects.bulk_create(letters)]


def remove_drafted(letter_ids: list[int]) -> None:
    """Delete the bench's letters with their PDFs, their cases and their portfolio."""
    letters = Letter.objects.filter(pk__in=letter_ids)
    storage = Letter._meta.get_field("pdf").storage
    for name in letters.exclude(pdf="").values_list("pdf", flat=True):
        storage.delete(name)
    line_ids = list(letters.values_list("case__credit_line_id", flat=True))
    letters.delete()
    Case.objects.filter(credit_line_id__in=line_ids).delete()
    Bill.objects.filter(credit_line_id__in=line_ids).delete()
    CreditLine.objects.filter(pk__in=line_ids).delete()
    Customer.objects.filter(pk__in=line_ids).delete()


@contextmanager
def publishing_to(broker: str) -> Iterator[None]:
    """Publish and ask workers through ``broker`` for the block, as a back office with that broker does."""
    conf = celery_app.conf
    before = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = broker, False
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = before


@contextmanager
def letters_worker(*, concurrency: int, broker: str, log_path: Path) -> Iterator[str]:
    """Run ``celery worker -Q letters --concurrency N`` (prefork) until the block ends; yield its node name."""
    name = f"bench-letters-{secrets.token_hex(3)}@{os.uname().nodename}"
    command = [
        *(sys.executable, "-m", "celery", "-A", "backoffice", "worker", "-Q", "letters"),
        *("--pool", "prefork", "--concurrency", str(concurrency), "-n", name, "--loglevel=WARNING"),
        *("--without-gossip", "--without-mingle"),
    ]
    with log_path.open("w") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env={**os.environ, "CELERY_BROKER_URL": broker}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield name
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()


def wait_until_ready(*, name: str, broker: str, timeout: float = 120) -> float:
    """Wait until the worker answers a ping; return how many seconds it took to start."""
    started = time.perf_counter()
    with celery_app.connection_for_write(broker) as connection:
        while time.perf_counter() - started < timeout:
            if celery_app.control.ping(destination=[name], timeout=1.0, connection=connection):
                return time.perf_counter() - started
    raise TimeoutError(f"The letters worker {name} did not start within {timeout:.0f} s.")


def enqueue(letter_ids: list[int], *, broker: str) -> int:
    """Queue the letters' rendering on the ``letters`` queue in chunks, as the drafting does; return the tasks."""
    tasks = 0
    with celery_app.connection_for_write(broker) as connection:
        for chunk in id_chunks(letter_ids):
            celery_app.send_task(RENDER_TASK, args=[chunk], connection=connection)
            tasks += 1
    return tasks


def wait_until_rendered(letter_ids: list[int], *, timeout: float) -> int:
    """Wait until none of the letters waits to be rendered; return how many failed rendering."""
    deadline = time.monotonic() + timeout
    while waiting_to_render().filter(pk__in=letter_ids).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Letters still waiting to be rendered after {timeout:.0f} s.")
        time.sleep(0.1)
    return Letter.objects.filter(pk__in=letter_ids, status=LetterStatus.RENDER_FAILED).count()


def queue_figures(*, template: LetterTemplate, count: int, workers: int, log_dir: Path) -> dict:
    """Draft ``count`` letters, render them on a letters worker of ``workers`` processes; return the figures."""
    broker = bench_broker()
    letter_ids = draft_letters(template, count)
    try:
        log_path = log_dir / "bench-letters-worker.log"
        with publishing_to(broker), letters_worker(concurrency=workers, broker=broker, log_path=log_path) as name:
            start_seconds = wait_until_ready(name=name, broker=broker)
            started = time.perf_counter()
            tasks = enqueue(letter_ids, broker=broker)
            failed = wait_until_rendered(letter_ids, timeout=max(120.0, count * 2.0))
            elapsed = time.perf_counter() - started
        rendered = Letter.objects.filter(pk__in=letter_ids, status=LetterStatus.PENDING_APPROVAL).count()
    finally:
        remove_drafted(letter_ids)
    return {
        "letters": count,
        "rendered": rendered,
        "failed": failed,
        "letters_per_second": round(rendered / elapsed, 1),
        "seconds": round(elapsed, 2),
        "tasks": tasks,
        "chunk": settings.LETTERS_RENDER_CHUNK,
        "workers": workers,
        "worker_start_seconds": round(start_seconds, 1),
        "broker": broker.rsplit("@", 1)[-1],
    }
