"""Work WeasyPrint 70 repeats on every letter, done once.

Measured on a one-page Chinese letter (Noto Serif CJK SC: 65,000 glyphs, CFF):

- **Font subsetting.** WeasyPrint subsets each embedded font in two HarfBuzz passes: the first keeps
  the used glyphs at their own ids (``RETAIN_GIDS``), the second keeps glyphs ``0..last used`` of
  the result to drop the empty tail and the hinting. HarfBuzz's first pass already ends at the last
  glyph used, so with the hinting dropped in the same pass one pass gives the same font: ~17 ms
  instead of ~45-60 ms. ``subset_in_one_pass`` checks the glyph count and falls back to
  WeasyPrint's own two passes whenever the result differs.
- **Stream compression.** pydyf deflates a stream (at level 9) each time its bytes are asked for,
  and a PDF with an identifier (every PDF/A) asks twice, once to write it and once to hash it for
  the ID. The embedded font is ~800 kB before compression (the kept glyph ids reach ~63,000), so
  that is ~45 ms. ``compress_streams_once``, a WeasyPrint ``finisher``, deflates each stream once,
  at level 1: ~6 ms for the font, and the PDF 2 % larger than at level 9.
- **The whole font, copied.** WeasyPrint copies the whole font file out of HarfBuzz for every PDF
  (26 MB for Noto Serif CJK, ~6.5 ms) before subsetting it. ``install`` keeps that copy per face
  and process: the bytes are the same each time.

``hb_subset_preprocess`` (HarfBuzz >= 6) was tried too: it saves ~8 ms per letter but costs ~1.9 s
and ~390 MB per process, more than it gives back before a worker is recycled.

The largest cost left is the size of the ``RETAIN_GIDS`` font: the CFF offsets of ~63,000 mostly
empty glyphs deflate to ~140 kB of the PDF's ~200 kB. Without ``RETAIN_GIDS`` the font is ~43 kB
and subsetting plus deflating takes ~9 ms instead of ~23 ms, but HarfBuzz keeps the original CIDs in
the CFF charset while WeasyPrint writes glyph ids as CIDs: that needs the CIDs renumbered and an
encoding CMap, and checking against PDF readers that treat CIDs differently.
"""

import logging
import threading
import zlib
from collections import OrderedDict

import pydyf
import weasyprint
from weasyprint.pdf import fonts as weasyprint_fonts
from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset, pango
from weasyprint.text.fonts import FontConfiguration

logger = logging.getLogger(__name__)

# The only WeasyPrint whose private subsetting method (Font._harfbuzz_subset) this replaces.
CHECKED_WEASYPRINT_VERSION = "70.0"

# Level 1 deflates the font in ~6 ms instead of ~11 ms (level 6) or ~20 ms (level 9, pydyf's),
# for 2 % more bytes.
COMPRESSION_LEVEL = 1

# The tables WeasyPrint 70 drops from every embedded font (weasyprint/pdf/fonts.py).
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ")

_weasyprint_subset = weasyprint_fonts.Font._harfbuzz_subset
_weasyprint_font_init = weasyprint_fonts.Font.__init__
_weasyprint_object_data = weasyprint_fonts.get_hb_object_data

# Whole font files by the address of their HarfBuzz face; the face is referenced here too, so that
# address cannot be freed and given to another face while the entry lives. Only the last few faces
# are kept, and only of the letters' own FontConfiguration (a plain WeasyPrint render brings new
# faces each time).
_whole_fonts: OrderedDict[int, tuple[object, bytes]] = OrderedDict()
_WHOLE_FONTS_KEPT = 4
_font_init = threading.local()
_letters_font_configs: list[object] = []


def _sorted_array(values: list[int]) -> object:
    return ffi.new(f"hb_codepoint_t[{len(values)}]", values)


def _subset_input(glyph_ids: list[int], flags: int) -> object:
    subset_input = ffi.gc(harfbuzz_subset.hb_subset_input_create_or_fail(), harfbuzz_subset.hb_subset_input_destroy)
    glyph_set = harfbuzz_subset.hb_subset_input_glyph_set(subset_input)
    harfbuzz.hb_set_add_sorted_array(glyph_set, _sorted_array(glyph_ids), len(glyph_ids))
    harfbuzz_subset.hb_subset_input_set_flags(subset_input, flags)
    tags = sorted(harfbuzz.hb_tag_from_string(name, -1) for name in _DROPPED_TABLES)
    drop_set = harfbuzz_subset.hb_subset_input_set(subset_input, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG)
    harfbuzz.hb_set_add_sorted_array(drop_set, _sorted_array(tags), len(tags))
    return subset_input


def _flags(font: weasyprint_fonts.Font, hinting: bool) -> int:
    flags = (
        harfbuzz_subset.HB_SUBSET_FLAGS_RETAIN_GIDS
        | harfbuzz_subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
        | harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE
    )
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    if font.missing:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    return flags


def subset_in_one_pass(font: weasyprint_fonts.Font, to_unicode: dict[int, str], hinting: bool) -> None:
    """Keep only the glyphs in ``to_unicode``, at their own ids, in one HarfBuzz pass.

    Falls back to WeasyPrint's two passes if HarfBuzz fails or keeps more glyphs than the last used.
    """
    glyph_ids = sorted(to_unicode)
    face = harfbuzz_subset.hb_subset_or_fail(font.hb_face, _subset_input(glyph_ids, _flags(font, hinting)))
    if face != ffi.NULL:
        face = ffi.gc(face, harfbuzz.hb_face_destroy)
        if harfbuzz.hb_face_get_glyph_count(face) == glyph_ids[-1] + 1:
            file_content = _weasyprint_object_data(face)
            if file_content:
                font.file_content = file_content
                return
    _weasyprint_subset(font, to_unicode, hinting)


def _whole_font(hb_face: object) -> bytes:
    address = int(ffi.cast("uintptr_t", hb_face))
    if address in _whole_fonts:
        _whole_fonts.move_to_end(address)
    else:
        kept_face = ffi.gc(harfbuzz.hb_face_reference(hb_face), harfbuzz.hb_face_destroy)
        _whole_fonts[address] = (kept_face, _weasyprint_object_data(hb_face))
        while len(_whole_fonts) > _WHOLE_FONTS_KEPT:
            _whole_fonts.popitem(last=False)
    return _whole_fonts[address][1]


def _object_data(hb_object: object, ot_color: str | None = None, glyph: int | None = None) -> bytes | None:
    """Return HarfBuzz data as WeasyPrint's ``get_hb_object_data``; a font's whole file from the copy kept."""
    if getattr(_font_init, "active", False) and ot_color is None and glyph is None:
        return _whole_font(hb_object)
    return _weasyprint_object_data(hb_object, ot_color, glyph)


def _address(pointer: object) -> int:
    return int(ffi.cast("uintptr_t", pointer))


def _init_font(font: weasyprint_fonts.Font, pango_font: object, *args: object) -> None:
    # Only the face Font.__init__ asks for is a long-lived one (Pango's, for the process); the
    # faces the subsetting makes are freed at once, so their data must never be kept.
    font_map = _address(pango.pango_font_get_font_map(pango_font))
    _font_init.active = any(font_map == _address(kept.font_map) for kept in _letters_font_configs)
    try:
        _weasyprint_font_init(font, pango_font, *args)
    finally:
        _font_init.active = False


def install(font_config: FontConfiguration) -> bool:
    """Subset fonts in one pass, and keep the whole fonts of ``font_config``, if this WeasyPrint allows it."""
    if weasyprint.__version__ != CHECKED_WEASYPRINT_VERSION or harfbuzz_subset is None:
        logger.warning("WeasyPrint %s: letters keep its own, slower font subsetting", weasyprint.__version__)
        return False
    _letters_font_configs.append(font_config)
    weasyprint_fonts.Font._harfbuzz_subset = subset_in_one_pass
    weasyprint_fonts.Font.__init__ = _init_font
    weasyprint_fonts.get_hb_object_data = _object_data
    return True


def compress_streams_once(document: weasyprint.Document, pdf: pydyf.PDF) -> None:
    """Deflate every stream of ``pdf`` now, once; a ``finisher`` for ``write_pdf``."""
    for pdf_object in pdf.objects:
        if isinstance(pdf_object, pydyf.Stream) and pdf_object.compress:
            raw = b"\n".join(pydyf._to_bytes(item) for item in pdf_object.stream)
            pdf_object.stream = [zlib.compress(raw, COMPRESSION_LEVEL)]
            pdf_object.extra["Filter"] = "/FlateDecode"
            pdf_object.compress = False
