"""``manage.py bench_letters``: how fast one-page Chinese lawyer letters render, one PDF each."""

import json
import os
import resource
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from faker import Faker
from weasyprint import HTML

from backoffice.bench import letters_queue, require_migrated
from letters import workers
from letters.documents import render_html, sample_snapshot, verify_url
from letters.models import LetterTemplate

# Small chunks, so neither worker idles long while the other finishes the last one.
_CHUNK = 5


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


class Command(BaseCommand):
    """Render N distinct letters on every core, one render alone, and plain WeasyPrint for comparison."""

    help = "Benchmark rendering of one-page Chinese lawyer letters (no database writes)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare --count, --json and --processes."""
        parser.add_argument("--count", type=int, default=200, help="Letters to render (default 200).")
        parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="Worker processes.")
        parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Render through the letters queue instead: draft --count letters and start a letters worker of "
            "this many processes (prefork) on CELERY_BROKER_URL, else redis://127.0.0.1:6379/8.",
        )

    def handle(self, *args: object, **options: object) -> None:
        """Measure and print."""
        require_migrated("bench_letters")
        for name in ("count", "processes", "workers"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name} {options[name]}: must be at least 1.")
        # With its firm, so that the template goes to the workers whole and rendering queries nothing.
        template = (
            LetterTemplate.objects.select_related("firm")
            .filter(code="lawyer-letter", language="zh-hans")
            .order_by("-is_active", "-version")
            .first()
        )
        if template is None:
            raise CommandError("The shipped Chinese template lawyer-letter is missing: run `manage.py migrate`.")
        if options["workers"] is not None:
            self._through_the_queue(template, options)
            return
        snapshots = self._letters(template, options["count"])
        rate, cpu_ms, pdf_kb = self._batch_rate(template, snapshots, options["processes"])
        figures = {
            "letters": len(snapshots),
            "letters_per_second": round(rate, 1),
            "worker_cpu_ms_per_letter": round(cpu_ms, 1),
            "pdf_kb_per_letter": round(pdf_kb, 1),
            "single_render_ms": round(self._single_ms(template, snapshots), 1),
            "plain_letters_per_second": round(self._plain_rate(template, snapshots), 1),
            "processes": options["processes"],
        }
        figures["ratio_vs_plain_render"] = round(figures["letters_per_second"] / figures["plain_letters_per_second"], 2)
        figures["peak_rss_mb"] = round(_peak_rss_mb(), 1)
        if options["json"]:
            self.stdout.write(json.dumps(figures))
        else:
            self.stdout.write(
                f"{figures['letters']} one-page Chinese lawyer letters on {figures['processes']} processes: "
                f"{figures['letters_per_second']} letters/s ({figures['worker_cpu_ms_per_letter']} ms of worker CPU "
                f"and {figures['pdf_kb_per_letter']} kB of PDF a letter); a single render {figures['single_render_ms']} ms; "
                f"plain one-at-a-time WeasyPrint {figures['plain_letters_per_second']} letters/s "
                f"(ratio {figures['ratio_vs_plain_render']}); peak memory {figures['peak_rss_mb']} MB."
            )

    def _through_the_queue(self, template: LetterTemplate, options: dict) -> None:
        """Draft, queue and render the letters on a real letters worker; print its figures."""
        with tempfile.TemporaryDirectory() as log_dir:
            try:
                figures = letters_queue.queue_figures(
                    template=template, count=options["count"], workers=options["workers"], log_dir=Path(log_dir)
                )
            except TimeoutError as exc:
                log = (Path(log_dir) / "bench-letters-worker.log").read_text()[-2000:]
                raise CommandError(f"{exc}\n{log}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(
            f"{figures['rendered']} of {figures['letters']} letters rendered through the letters queue by a worker of "
            f"{figures['workers']} processes: {figures['letters_per_second']} letters/s ({figures['seconds']} s, "
            f"{figures['tasks']} tasks of {figures['chunk']}; {figures['failed']} failed); the worker started in "
            f"{figures['worker_start_seconds']} s."
        )

    def _letters(self, template: LetterTemplate, count: int) -> list[dict]:
        """Return ``count`` snapshots of distinct letters: addressee, amount and number differ."""
        fake = Faker("zh_CN")
        fake.seed_instance(7)
        snapshots = []
        for index in range(count):
            snapshot = sample_snapshot(template)
            number = f"LF-2099-{index + 1:06d}"
            snapshot["letter"].update(
                number=number, verify_url=verify_url(number, snapshot["letter"]["verification_code"])
            )
            snapshot["addressee"] = {"name": fake.name(), "address": fake.address().replace("\n", " ")}
            snapshot["amounts"]["principal"] = f"{fake.random_int(1000, 90000):,}.{fake.random_int(0, 99):02d}"
            snapshots.append(snapshot)
        return snapshots

    def _single_ms(self, template: LetterTemplate, snapshots: list[dict]) -> float:
        """Median time of one letter, HTML and PDF, in this process."""
        workers.render_documents(template, snapshots[:1])
        times = []
        for snapshot in snapshots[:7]:
            started = time.perf_counter()
            workers.render_documents(template, [snapshot])
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    def _batch_rate(
        self, template: LetterTemplate, snapshots: list[dict], processes: int
    ) -> tuple[float, float, float]:
        """Return letters per second, worker CPU ms per letter (which other load on the machine
        does not inflate as much as the rate) and PDF kB per letter."""
        chunks = [snapshots[i : i + _CHUNK] for i in range(0, len(snapshots), _CHUNK)]
        render = partial(workers.render_documents, template)
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn"), initializer=workers.setup_worker) as pool:
            list(pool.map(render, [snapshots[:1]] * processes))  # warm every worker first
            started = time.perf_counter()
            done = list(pool.map(render, chunks))
            elapsed = time.perf_counter() - started
        produced, cpu_seconds = sum(size for size, _cpu in done), sum(cpu for _size, cpu in done)
        return len(snapshots) / elapsed, cpu_seconds * 1000 / len(snapshots), produced / 1024 / len(snapshots)

    def _plain_rate(self, template: LetterTemplate, snapshots: list[dict]) -> float:
        """Letters per second of plain WeasyPrint, one at a time, from the same HTML (rendered beforehand)."""
        sample = [render_html(template, snapshot) for snapshot in snapshots[:20]]
        started = time.perf_counter()
        for html in sample:
            HTML(string=html).write_pdf()
        return len(sample) / (time.perf_counter() - started)
