"""Read back what a PDF's embedded fonts draw: each font's ToUnicode map, and its glyphs' outlines by CID."""

import io
import re
import struct

from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

_HEX = "<([0-9A-Fa-f]+)>"


def to_unicode(font: dict) -> dict[int, str]:
    """Return the text each character code of a Type 0 font stands for, from its ToUnicode CMap."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    mapping = {}
    for section in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rf"{_HEX}\s*{_HEX}", section):
            mapping[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
    for section in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, text in re.findall(rf"{_HEX}\s*{_HEX}\s*{_HEX}", section):
            first = bytes.fromhex(text).decode("utf-16-be")
            for offset in range(int(high, 16) - int(low, 16) + 1):
                mapping[int(low, 16) + offset] = first[:-1] + chr(ord(first[-1]) + offset)
    return mapping


def code_to_cid(font: dict) -> dict[int, int] | None:
    """Return the CID each character code of a Type 0 font selects, or None for Identity-H (the code is the CID).

    A code the encoding CMap leaves out selects CID 0, ``.notdef``.
    """
    encoding = font["/Encoding"]
    if encoding == "/Identity-H":
        return None
    if not hasattr(encoding, "get_object") or not hasattr(encoding.get_object(), "get_data"):
        raise ValueError(f"encoding {encoding}")
    cmap = encoding.get_object().get_data().decode("latin-1")
    mapping = {}
    for section in re.findall(r"begincidchar(.*?)endcidchar", cmap, re.S):
        for code, cid in re.findall(rf"{_HEX}\s*(\d+)", section):
            mapping[int(code, 16)] = int(cid)
    for section in re.findall(r"begincidrange(.*?)endcidrange", cmap, re.S):
        for low, high, cid in re.findall(rf"{_HEX}\s*{_HEX}\s*(\d+)", section):
            mapping.update((code, int(cid) + code - int(low, 16)) for code in range(int(low, 16), int(high, 16) + 1))
    return mapping


def _drawn(glyph: object, glyph_set: object = None) -> list:
    pen = RecordingPen()
    if glyph_set is None:
        glyph.draw(pen)
    else:
        glyph.draw(pen, glyph_set)
    return pen.value


def _cff_outlines(program: object, cids: set[int] | None) -> dict[int, list]:
    data = program.get_data()
    if program["/Subtype"] == "/OpenType":
        cff = TTFont(io.BytesIO(data))["CFF "].cff
    else:
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(data), None)
    top = cff[cff.fontNames[0]]
    charstrings = top.CharStrings
    # A CID-keyed font finds a CID's glyph through its charset (glyph names "cidNNNNN"); any other
    # takes the CID as the glyph's index.
    cid_of = {
        name: int(name.removeprefix("cid")) if name.startswith("cid") else i for i, name in enumerate(top.charset)
    }
    return {
        cid_of[name]: _drawn(charstrings[name])
        for name in charstrings.charStrings
        if name != ".notdef" and (cids is None or cid_of[name] in cids)
    }


def _truetype_outlines(cid_font: dict, cids: set[int] | None) -> dict[int, list]:
    font = TTFont(io.BytesIO(cid_font["/FontDescriptor"]["/FontFile2"].get_object().get_data()))
    glyph_order, glyf = font.getGlyphOrder(), font["glyf"]
    cid_to_gid = cid_font.get("/CIDToGIDMap", "/Identity")
    if cid_to_gid == "/Identity":
        gids = dict(enumerate(range(len(glyph_order))))
    else:
        data = cid_to_gid.get_object().get_data()
        gids = dict(enumerate(struct.unpack(f">{len(data) // 2}H", data)))
    return {
        cid: _drawn(glyf[glyph_order[gid]], glyf)
        for cid, gid in gids.items()
        if 0 < gid < len(glyph_order) and (cids is None or cid in cids)
    }


def outlines_by_cid(cid_font: dict, cids: set[int] | None = None) -> dict[int, list]:
    """Return the pen strokes of each glyph (of ``cids``, or all) a CIDFont's embedded program draws, by CID.

    ``.notdef`` is never among them: a CID with no entry, or an empty one, prints blank.
    """
    descriptor = cid_font["/FontDescriptor"]
    if "/FontFile3" in descriptor:
        return _cff_outlines(descriptor["/FontFile3"].get_object(), cids)
    if "/FontFile2" in descriptor:
        return _truetype_outlines(cid_font, cids)
    raise ValueError(f"{cid_font['/BaseFont']}: no embedded CFF or TrueType program")


def glyphs_by_character(page: object) -> dict[str, list[tuple[str, int, list]]]:
    """Return, for each character the page's fonts give back as text, the (font, CID, outline) of each glyph giving it."""
    glyphs: dict[str, list[tuple[str, int, list]]] = {}
    for name, ref in page["/Resources"]["/Font"].items():
        font = ref.get_object()
        texts, cids = to_unicode(font), code_to_cid(font)
        cid_of = {code: code if cids is None else cids.get(code, 0) for code in texts}
        outlines = outlines_by_cid(font["/DescendantFonts"][0].get_object(), set(cid_of.values()))
        for code, text in texts.items():
            for character in text:
                glyphs.setdefault(character, []).append((name, cid_of[code], outlines.get(cid_of[code], [])))
    return glyphs


def embedded_fonts(page: object) -> set[str]:
    """Return the PostScript names of the fonts a page embeds, without their subset tags."""
    return {ref.get_object()["/BaseFont"].split("+", 1)[-1] for ref in page["/Resources"]["/Font"].values()}
