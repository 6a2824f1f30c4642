"""No template served to a browser carries what the Content Security Policy refuses: inline scripts, inline
styles, event-handler attributes or ``javascript:`` links (the letters' PDF layouts are WeasyPrint's, not a
browser's, and keep their one <style>)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Rendered to PDF by WeasyPrint only, never sent to a browser.
PDF_LAYOUTS = {ROOT / "templates" / "letters" / "base.html"} | set((ROOT / "letters" / "shipped").glob("*.html"))
REFUSED = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "an inline style element": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def served_templates() -> list[Path]:
    """Every template of the project and its apps that a browser may be sent."""
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(path for folder in folders for path in folder.rglob("*.html") if path not in PDF_LAYOUTS)


def test_no_served_template_carries_inline_script_style_or_handlers():
    templates = served_templates()
    assert len(templates) > 40
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for what, pattern in REFUSED.items()
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
