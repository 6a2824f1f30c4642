"""Work WeasyPrint 70 repeats on every letter, done once.

Measured on a one-page Chinese letter (Noto Serif CJK SC: 65,000 glyphs, CFF):

- **Font subsetting.** WeasyPrint subsets each embedded font in two HarfBuzz passes: the first keeps
  the used glyphs at their own ids (``RETAIN_GIDS``), the second keeps glyphs ``0..last used`` of
  the result to drop the empty tail and the hinting. HarfBuzz's first pass already ends at the last
  glyph used, so with the hinting dropped in the same pass one pass gives the same font: ~17 ms
  instead of ~45-60 ms. ``subset_in_one_pass`` checks the glyph count and falls back to
  WeasyPrint's own two passes whenever the result differs. The same holds for the TrueType (glyf)
  fallback font that draws the rare ideographs the main font lacks (HanaMinB): a letter that needs
  it takes ~6 ms more, and the first in a process ~25 ms more.
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

- **Glyph ids of a CID-keyed CFF font.** With ``RETAIN_GIDS`` the font keeps ~63,000 mostly empty
  glyph slots, whose CFF offsets deflate to ~140 kB of a ~200 kB PDF. Noto Serif CJK is a CID-keyed
  CFF font (ROS Adobe-Identity-0) whose charset maps every glyph id to the same CID, and WeasyPrint
  embeds it as ``FontFile3 /OpenType`` under a ``CIDFontType0`` font, writing glyph ids as CIDs (in
  the content streams with Identity-H, in ``/W`` and in ``ToUnicode``). In a ``CIDFontType0`` font
  the CFF charset, not ``/CIDToGIDMap``, maps those CIDs to glyphs (PDF 32000, 9.7.4.2), and
  HarfBuzz's subsetter, without ``RETAIN_GIDS``, keeps each glyph's original CID in the charset. So
  the glyphs can be packed with nothing else in the PDF changed but the font program, embedded as
  its bare CFF table (``/CIDFontType0C``: poppler ignores the charset of an ``/OpenType`` one): the
  font is ~45 kB instead of ~180 kB, and subsetting plus deflating takes a third of the time. ``_subset_packed`` does this only
  when the subset font's charset maps its glyphs to exactly the glyph ids WeasyPrint writes as CIDs
  (checked on every subset, by ``_cff_cids``), and for nothing but a plain CFF OpenType font with no
  missing glyphs; anything else takes the ``RETAIN_GIDS`` path.
"""

import logging
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

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
# Whether a face's CFF charset is the identity, by the address of the face (kept here, as above).
_identity_charsets: OrderedDict[int, tuple[object, bool]] = OrderedDict()
# The fonts packed for the PDF being written in this thread; None outside ``packing_fonts``.
_render = threading.local()


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


def _flags(font: weasyprint_fonts.Font, hinting: bool, *, retain_gids: bool = True) -> int:
    # No PASSTHROUGH_UNRECOGNIZED: WeasyPrint asks for it, but its second pass starts from the first
    # one's result, from which HarfBuzz 6 passes no unrecognised table through (FontForge's FFTM in
    # the TrueType fallback font), so its fonts have none.
    flags = harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE
    if retain_gids:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_RETAIN_GIDS
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    if font.missing:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    return flags


class _NotCIDKeyed(ValueError):
    """A font is not what ``_cff_cids`` reads: an OpenType font with a CID-keyed CFF table."""


def _index_end(data: bytes, offset: int) -> tuple[int, int]:
    """Return (count, end offset) of the CFF INDEX at ``offset``."""
    (count,) = struct.unpack_from(">H", data, offset)
    if count == 0:
        return 0, offset + 2
    off_size = data[offset + 2]
    last = offset + 3 + count * off_size
    return count, last + off_size - 1 + int.from_bytes(data[last : last + off_size], "big")


def _dict_operators(data: bytes) -> dict[int, list[float]]:
    """Return a CFF DICT's operands by operator (escaped operators as ``1200 + op``)."""
    operators, operands, i = {}, [], 0
    while i < len(data):
        b0 = data[i]
        if b0 <= 21:
            if b0 == 12:
                b0, i = 1200 + data[i + 1], i + 1
            operators[b0], operands = operands, []
            i += 1
        elif b0 == 28:
            operands.append(struct.unpack_from(">h", data, i + 1)[0])
            i += 3
        elif b0 == 29:
            operands.append(struct.unpack_from(">i", data, i + 1)[0])
            i += 5
        elif b0 == 30:  # a real: nibbles up to an 0xf one; only offsets and ROS are read here
            i += 1
            while data[i] & 0x0F != 0x0F and data[i] >> 4 != 0x0F:
                i += 1
            operands.append(0.0)
            i += 1
        elif 32 <= b0 <= 246:
            operands.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 250:
            operands.append((b0 - 247) * 256 + data[i + 1] + 108)
            i += 2
        elif 251 <= b0 <= 254:
            operands.append(-(b0 - 251) * 256 - data[i + 1] - 108)
            i += 2
        else:
            raise _NotCIDKeyed(f"CFF DICT byte {b0}")
    return operators


def _cff_table(font_file: bytes) -> memoryview:
    """Return the CFF table of an OpenType/CFF font."""
    if font_file[:4] != b"OTTO":
        raise _NotCIDKeyed("not an OpenType/CFF font")
    (table_count,) = struct.unpack_from(">H", font_file, 4)
    tables = {
        font_file[12 + 16 * i : 16 + 16 * i]: struct.unpack_from(">II", font_file, 20 + 16 * i)
        for i in range(table_count)
    }
    if b"CFF " not in tables:
        raise _NotCIDKeyed("no CFF table")
    start, length = tables[b"CFF "]
    return memoryview(font_file)[start : start + length]


def _cff_cids(font_file: bytes) -> list[int]:
    """Return the CID of each glyph of an OpenType font with a CID-keyed CFF table, by glyph id."""
    return _charset_cids(_cff_table(font_file))


def _charset_cids(cff: memoryview) -> list[int]:
    """Return the CID of each glyph of a CID-keyed CFF font, by glyph id."""
    _, names_end = _index_end(cff, cff[2])
    top_count, _ = _index_end(cff, names_end)
    if top_count != 1:
        raise _NotCIDKeyed("not one font in the CFF table")
    off_size = cff[names_end + 2]
    first, last = (
        int.from_bytes(cff[names_end + 3 + k * off_size : names_end + 3 + (k + 1) * off_size], "big") for k in (0, 1)
    )
    data_start = names_end + 3 + 2 * off_size - 1
    top = _dict_operators(cff[data_start + first : data_start + last])
    if 1230 not in top or 15 not in top or 17 not in top:  # ROS, charset, CharStrings
        raise _NotCIDKeyed("not a CID-keyed CFF font")
    glyph_count, _ = _index_end(cff, int(top[17][0]))
    charset = int(top[15][0])
    if charset <= 2:
        raise _NotCIDKeyed("a predefined charset")
    charset_format, i, cids = cff[charset], charset + 1, [0]
    while len(cids) < glyph_count:
        if charset_format == 0:
            cids.append(struct.unpack_from(">H", cff, i)[0])
            i += 2
        elif charset_format in (1, 2):
            first_cid = struct.unpack_from(">H", cff, i)[0]
            if charset_format == 1:
                left, i = cff[i + 2], i + 3
            else:
                left, i = struct.unpack_from(">H", cff, i + 2)[0], i + 4
            cids.extend(range(first_cid, first_cid + left + 1))
        else:
            raise _NotCIDKeyed(f"charset format {charset_format}")
    if len(cids) != glyph_count:
        raise _NotCIDKeyed("charset longer than the glyphs")
    return cids


def _has_identity_charset(hb_face: object) -> bool:
    """Whether the face is a CID-keyed CFF font whose every glyph has its own id as CID (kept per face)."""
    address = _address(hb_face)
    if address not in _identity_charsets:
        blob = harfbuzz.hb_face_reference_table(hb_face, harfbuzz.hb_tag_from_string(b"CFF ", -1))
        try:
            length = ffi.new("unsigned int *")
            data = harfbuzz.hb_blob_get_data(blob, length)
            cids = _charset_cids(memoryview(ffi.buffer(data, length[0]))) if data != ffi.NULL and length[0] else []
            identity = bool(cids) and cids == list(range(len(cids)))
        except (_NotCIDKeyed, struct.error, IndexError, ValueError):
            identity = False
        finally:
            harfbuzz.hb_blob_destroy(blob)
        kept_face = ffi.gc(harfbuzz.hb_face_reference(hb_face), harfbuzz.hb_face_destroy)
        _identity_charsets[address] = (kept_face, identity)
        while len(_identity_charsets) > _WHOLE_FONTS_KEPT:
            _identity_charsets.popitem(last=False)
    return _identity_charsets[address][1]


def _packable(font: weasyprint_fonts.Font) -> bool:
    """Whether ``font`` may be subset without keeping glyph ids: a plain, static OpenType/CFF font, all glyphs found."""
    tables = set(font.tables)
    return (
        "CFF " in tables
        and not tables & {"glyf", "CFF2", "fvar"}
        and not (font.missing or font.bitmap or font.png or font.svg or font.colr)
        and _has_identity_charset(font.hb_face)
    )


def _subset_packed(font: weasyprint_fonts.Font, glyph_ids: list[int], hinting: bool) -> bytes | None:
    """Return the font with only ``glyph_ids``, packed, if its CFF charset still maps each to its own id as CID.

    The PDF then needs no change: WeasyPrint writes glyph ids as CIDs, and a CIDFontType0 font finds
    a CID's glyph through the CFF charset. Return None whenever that does not hold.
    """
    subset_input = _subset_input(glyph_ids, _flags(font, hinting, retain_gids=False))
    face = harfbuzz_subset.hb_subset_or_fail(font.hb_face, subset_input)
    if face == ffi.NULL:
        return None
    face = ffi.gc(face, harfbuzz.hb_face_destroy)
    file_content = _weasyprint_object_data(face)
    if not file_content:
        return None
    try:
        cids = _cff_cids(file_content)
    except (_NotCIDKeyed, struct.error, IndexError) as exc:
        logger.debug("Font %s keeps its glyph ids: %s", font.family, exc)
        return None
    # The font's charset is the identity, and HarfBuzz keeps each glyph's CID: the glyphs kept (those
    # asked for, and any HarfBuzz adds by closure) come in their old order, each with its old id as CID.
    if cids != sorted(set(cids)) or not set(glyph_ids) <= set(cids):
        return None
    return file_content


@contextmanager
def packing_fonts() -> Iterator[None]:
    """Let the fonts of the PDF written inside be packed; ``compress_streams_once`` must finish that PDF.

    The finisher embeds each packed font as its bare CFF table (``FontFile3 /CIDFontType0C``), whose
    charset every reader applies to CIDs; some (poppler) take the CIDs of an ``/OpenType`` font
    program for glyph ids. A packed font the finisher did not see raises, rather than give a PDF
    that some readers draw wrong.
    """
    _render.packed = []
    try:
        yield
        if _render.packed:
            raise RuntimeError("A packed font was not embedded as CIDFontType0C: finish with compress_streams_once")
    finally:
        _render.packed = None


def subset_in_one_pass(font: weasyprint_fonts.Font, to_unicode: dict[int, str], hinting: bool) -> None:
    """Keep only the glyphs in ``to_unicode`` in one HarfBuzz pass: packed if the CIDs allow, else at their own ids.

    Falls back to WeasyPrint's two passes if HarfBuzz fails or keeps more glyphs than the last used.
    """
    glyph_ids = sorted(to_unicode)
    packed = getattr(_render, "packed", None)
    if packed is not None and _packable(font):
        file_content = _subset_packed(font, glyph_ids, hinting)
        if file_content is not None:
            font.file_content = file_content
            packed.append(file_content)
            return
    _subset_retaining_gids(font, glyph_ids, to_unicode, hinting)


def _subset_retaining_gids(
    font: weasyprint_fonts.Font, glyph_ids: list[int], to_unicode: dict[int, str], hinting: bool
) -> None:
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
    """Deflate every stream of ``pdf`` now, once, packed fonts as bare CFF; a ``finisher`` for ``write_pdf``."""
    packed = getattr(_render, "packed", None) or []
    for pdf_object in pdf.objects:
        if isinstance(pdf_object, pydyf.Stream) and pdf_object.extra.get("Subtype") == "/OpenType":
            font_file = pdf_object.stream[0] if len(pdf_object.stream) == 1 else None
            for i, packed_font in enumerate(packed):
                if font_file is packed_font:
                    pdf_object.stream = [bytes(_cff_table(packed_font))]
                    pdf_object.extra["Subtype"] = "/CIDFontType0C"
                    del packed[i]
                    break
    for pdf_object in pdf.objects:
        if isinstance(pdf_object, pydyf.Stream) and pdf_object.compress:
            raw = b"\n".join(pydyf._to_bytes(item) for item in pdf_object.stream)
            pdf_object.stream = [zlib.compress(raw, COMPRESSION_LEVEL)]
            pdf_object.extra["Filter"] = "/FlateDecode"
            pdf_object.compress = False
