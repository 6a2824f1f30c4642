"""Turn a letter's HTML into a PDF/A-3b with WeasyPrint, fetching nothing but our own letter assets.

One ``FontConfiguration`` and one parsed copy of each template's style sheet per process (building
the first is the slow part of a first render, parsing the second ~10 ms a letter), and WeasyPrint's
font subsetting and stream compression each done once per letter (``pdf_tuning``).
"""

import hashlib
import json
import logging
import mimetypes
import re
from functools import cache, lru_cache
from pathlib import Path

from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from letters import pdf_tuning

logger = logging.getLogger(__name__)

ASSET_SCHEME = "letter-asset"
ASSET_DIR = (Path(__file__).resolve().parent / "static" / "letters").resolve()


class RefusedURL(ValueError):
    """A letter tried to fetch something other than our own assets."""


class LetterAssetFetcher(URLFetcher):
    """Serve ``letter-asset:<file>`` from the letters asset folder and inline ``data:`` URIs; refuse the rest."""

    def __init__(self) -> None:
        super().__init__(timeout=2, allowed_protocols={ASSET_SCHEME, "data"}, allow_redirects=False)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        """Return the asset, or refuse (and log) any other URL, ``file://`` and ``../`` included."""
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if not url.startswith(f"{ASSET_SCHEME}:"):
            logger.warning("Letter rendering refused to fetch %r", url)
            raise RefusedURL(f"Letters may fetch only {ASSET_SCHEME}: URLs, not {url!r}")
        relative = url.removeprefix(f"{ASSET_SCHEME}:").lstrip("/")
        path = (ASSET_DIR / relative).resolve()
        if ASSET_DIR not in path.parents or not path.is_file():
            logger.warning("Letter rendering refused to fetch %r", url)
            raise RefusedURL(f"No letter asset {relative!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})


@cache
def _fonts() -> FontConfiguration:
    font_config = FontConfiguration()
    pdf_tuning.install(font_config)
    return font_config


@cache
def _fetcher() -> LetterAssetFetcher:
    return LetterAssetFetcher()


# The letter's one <style> element (templates/letters/base.html); it is the same for every letter of
# a template version, so it is parsed once per process and passed to WeasyPrint already parsed.
_STYLE_ELEMENT = re.compile(r"<style>(?P<css>[^<]*)</style>")
_AT_RULE = re.compile(r"@([\w-]+)")
# At-rules whose effect stays inside their sheet; any other (@font-face, @import, @counter-style,
# @layer...) changes the document itself, so such a sheet stays in the HTML for WeasyPrint.
_SELF_CONTAINED_AT_RULES = (
    {"page", "media"}
    | {
        f"{side}-{place}"
        for side in ("top", "bottom")
        for place in ("left-corner", "left", "center", "right", "right-corner")
    }
    | {f"{side}-{place}" for side in ("left", "right") for place in ("top", "middle", "bottom")}
)


@lru_cache(maxsize=32)
def _stylesheet(css: str) -> CSS:
    return CSS(string=css, base_url=None, url_fetcher=_fetcher(), font_config=_fonts())


def _split_style(html: str) -> tuple[str, list[CSS]]:
    """Return the HTML without its style sheet and that sheet parsed, or the HTML as it is and no sheet.

    The sheet then applies with user rather than author origin: the same cascade for the letter
    templates, which declare no ``!important``, as long as it is the document's only style sheet.
    """
    match = _STYLE_ELEMENT.search(html)
    if match is None or html.lower().count("<style") != 1 or "<link" in html.lower():
        return html, []
    if not set(_AT_RULE.findall(match["css"])) <= _SELF_CONTAINED_AT_RULES or "!important" in match["css"]:
        return html, []
    return html[: match.start()] + html[match.end() :], [_stylesheet(match["css"])]


def render_pdf(html: str, *, snapshot: dict) -> bytes:
    """Render ``html`` to PDF/A-3b with the snapshot embedded as ``snapshot.json``."""
    attachment = Attachment(
        string=json.dumps(snapshot, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8"),
        name="snapshot.json",
        description="Data the letter was rendered from",
        relationship="Source",
        url_fetcher=_fetcher(),
    )
    html, stylesheets = _split_style(html)
    document = HTML(string=html, url_fetcher=_fetcher(), base_url=None)
    with pdf_tuning.packing_fonts():
        return document.write_pdf(
            stylesheets=stylesheets,
            pdf_variant="pdf/a-3b",
            attachments=[attachment],
            font_config=_fonts(),
            finisher=pdf_tuning.compress_streams_once,
        )


def sha256_of(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
