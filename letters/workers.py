"""Functions run in worker processes. Nothing here touches Django at import time: a spawned
worker imports this module before ``django.setup()`` has run."""

import gc
import time

import django


def setup_worker() -> None:
    """Set Django up in a fresh worker and load the letters' font with one small render."""
    django.setup()
    from letters.rendering import render_pdf  # noqa: PLC0415 - needs django.setup() (process-pool entry point)

    # The letters' own face, so the first letter does not pay for loading and copying it.
    style = '<style>html { font-family: "Noto Serif CJK SC", "HanaMinB", serif; }</style>'
    render_pdf(f"<html lang='zh-CN'><head>{style}</head><body><p>预热</p></body></html>", snapshot={})
    # What lives for the whole process (Django, the fonts, parsed sheets) leaves the garbage
    # collector's sight: its full collections then walk only the letters' own objects (~2 % a letter).
    gc.collect()
    gc.freeze()


def render_letters(letter_ids: list[int]) -> int:
    """Render the given draft letters, each as one counted try; return how many were rendered.

    A letter that fails keeps its error and stays a draft until its last try, then waits for a person.
    """
    from letters.services import letters_render  # noqa: PLC0415 - needs django.setup() (process-pool entry point)

    return letters_render(letter_ids=letter_ids)


def render_documents(template: object, snapshots: list[dict]) -> tuple[int, float]:
    """Render letters of ``template`` from their snapshots, HTML then PDF, and discard them (benchmarks:
    the rendering of ``render_letters`` without its phrase check and storage).

    Return the bytes produced and the CPU seconds this process spent on them. ``template`` is a
    ``LetterTemplate`` whose firm was read before it was pickled, so rendering queries nothing.
    """
    from letters.documents import render_html  # noqa: PLC0415 - needs django.setup() (process-pool entry point)
    from letters.rendering import render_pdf  # noqa: PLC0415 - needs django.setup() (process-pool entry point)

    started = time.process_time()
    produced = sum(len(render_pdf(render_html(template, snapshot), snapshot=snapshot)) for snapshot in snapshots)
    return produced, time.process_time() - started
