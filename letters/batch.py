"""Render letters on every core, and draft the letters the dunning run calls for."""

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from django.db import connections, transaction

from cases.choices import Stage
from cases.models import Case, CaseTransition, DunningPolicy, DunningRun
from letters import workers
from letters.choices import LetterStatus
from letters.models import Letter, LetterTemplate

# Worker processes are replaced after this many letters, in case WeasyPrint's memory creeps up.
# Measured: 166 MB after 100 letters, 168 MB after 1,000; a new worker costs ~2 s to start.
LETTERS_PER_WORKER = 1000
_CHUNK = 20


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def render_waiting(*, processes: int | None = None, on_progress: Callable[[int], None] | None = None) -> int:
    """Render every draft letter without a PDF, on ``processes`` processes (default: every core)."""
    ids = list(Letter.objects.filter(status=LetterStatus.DRAFT).order_by("id").values_list("id", flat=True))
    processes = processes or os.cpu_count() or 1
    if processes == 1 or len(ids) <= _CHUNK:
        return sum(_report(workers.render_letters(chunk), on_progress) for chunk in _chunks(ids))
    connections.close_all()
    context = get_context("spawn")
    with ProcessPoolExecutor(
        processes,
        mp_context=context,
        initializer=workers.setup_worker,
        max_tasks_per_child=LETTERS_PER_WORKER // _CHUNK,
    ) as pool:
        return sum(_report(done, on_progress) for done in pool.map(workers.render_letters, _chunks(ids)))


def _report(done: int, on_progress: Callable[[int], None] | None) -> int:
    if on_progress:
        on_progress(done)
    return done


def draft_for_run(*, run: DunningRun, batch: int = 500) -> int:
    """Draft (unrendered) the legal-stage letter each policy names, for cases the run moved into legal.

    Called after the run has committed, in batches of ``batch`` cases per transaction; cases that
    left the legal stage meanwhile, or already have a letter waiting, are skipped.
    """
    from letters.services import letter_draft

    templates = {
        policy.pk: LetterTemplate.objects.filter(code=policy.legal_letter_template, is_active=True).first()
        for policy in DunningPolicy.objects.exclude(legal_letter_template="")
    }
    case_ids = list(
        CaseTransition.objects.filter(run=run, to_stage=Stage.LEGAL)
        .values_list("case_id", flat=True)
        .order_by("case_id")
    )
    drafted = 0
    for start in range(0, len(case_ids), batch):
        cases = (
            Case.objects.filter(pk__in=case_ids[start : start + batch], stage=Stage.LEGAL)
            .exclude(letters__status__in=[LetterStatus.DRAFT, LetterStatus.PENDING_APPROVAL, LetterStatus.APPROVED])
            .with_customer()
        )
        with transaction.atomic():
            for case in cases:
                template = templates.get(case.credit_line.product.policy_id)
                if template is not None:
                    letter_draft(case=case, template=template, requested_by=None, render=False, as_of=run.as_of)
                    drafted += 1
    return drafted
