"""The shortcuts in letters.pdf_tuning and letters.rendering give the letter WeasyPrint would give."""

import io
import re

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.pdf import fonts as weasyprint_fonts

from letters import pdf_tuning, rendering
from letters.documents import render_html, sample_snapshot
from tests.letters.pdf_fonts import glyphs_by_character, outlines_by_cid

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter_html(lawyer_template):
    snapshot = sample_snapshot(lawyer_template)
    snapshot["addressee"] = {"name": "欧阳娜娜", "address": "广东省深圳市南山区科技园路 88 号 3 栋 1201 室"}
    return render_html(lawyer_template, snapshot), snapshot


@pytest.fixture
def rare_letter_html(lawyer_template):
    """A letter whose addressee has CJK Extension B characters, drawn by the TrueType fallback font."""
    snapshot = sample_snapshot(lawyer_template)
    snapshot["addressee"] = {"name": "欧阳𠀀𪚥", "address": "广东省深圳市南山区𤭢𠮷路 88 号 3 栋 1201 室"}
    return render_html(lawyer_template, snapshot), snapshot


def _subset_fonts(html, monkeypatch):
    """Return the (font, glyphs) WeasyPrint embeds for ``html``, before subsetting."""
    font_config = rendering._fonts()
    seen = []
    monkeypatch.setattr(
        weasyprint_fonts.Font, "_harfbuzz_subset", lambda font, glyphs, hinting: seen.append((font, glyphs))
    )
    HTML(string=html).write_pdf(font_config=font_config)
    return seen


def _assert_one_pass_gives_weasyprints_font(font, glyphs, monkeypatch):
    full = font.file_content
    pdf_tuning._weasyprint_subset(font, glyphs, False)
    expected = font.file_content
    font.file_content = full
    with monkeypatch.context() as patched:
        patched.setattr(pdf_tuning, "_weasyprint_subset", lambda *args: pytest.fail("fell back to two passes"))
        pdf_tuning.subset_in_one_pass(font, glyphs, False)
    assert font.file_content == expected
    assert len(expected) < len(full)


def test_one_subsetting_pass_gives_the_same_font_as_weasyprints_two(letter_html, monkeypatch):
    fonts = _subset_fonts(letter_html[0], monkeypatch)
    assert fonts
    for font, glyphs in fonts:
        _assert_one_pass_gives_weasyprints_font(font, glyphs, monkeypatch)


def test_the_truetype_fallback_font_is_subset_in_one_pass_too(rare_letter_html, monkeypatch):
    fonts = _subset_fonts(rare_letter_html[0], monkeypatch)
    assert sorted("glyf" in font.tables for font, _glyphs in fonts) == [False, True]
    for font, glyphs in fonts:
        _assert_one_pass_gives_weasyprints_font(font, glyphs, monkeypatch)


def test_a_letter_with_the_fallback_font_packs_the_main_one_and_draws_both(rare_letter_html):
    html, snapshot = rare_letter_html
    page = PdfReader(io.BytesIO(rendering.render_pdf(html, snapshot=snapshot))).pages[0]
    programs = {}
    for ref in page["/Resources"]["/Font"].values():
        descriptor = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        programs[descriptor["/FontName"].split("+")[-1]] = (
            descriptor["/FontFile3"].get_object()["/Subtype"] if "/FontFile3" in descriptor else "/FontFile2"
        )
    assert programs == {"Noto-Serif-CJK-SC": "/CIDFontType0C", "HanaMinB-Medium": "/FontFile2"}
    glyphs = glyphs_by_character(page)
    for character in "欧阳𠀀𪚥𤭢𠮷":
        assert glyphs[character], character
        assert all(outline for _font, _cid, outline in glyphs[character]), character


def test_rendering_uses_the_one_pass_subsetting_of_the_checked_weasyprint():
    rendering._fonts()
    assert weasyprint_fonts.Font._harfbuzz_subset is pdf_tuning.subset_in_one_pass


def test_streams_are_compressed_once_and_read_back(letter_html):
    html, snapshot = letter_html
    pdf = rendering.render_pdf(html, snapshot=snapshot)
    reader = PdfReader(io.BytesIO(pdf))
    assert "欧阳娜娜" in reader.pages[0].extract_text()
    assert len(re.findall(rb"/Filter\s*/FlateDecode", pdf)) >= 3
    for _font_name, font in reader.pages[0]["/Resources"]["/Font"].items():
        program = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]["/FontFile3"]
        assert program.get_object()["/Subtype"] == "/CIDFontType0C"
        assert program.get_object().get_data()[:2] == b"\x01\x00"  # a bare CFF table, version 1.0


def _fonts_of(pdf: bytes) -> dict:
    """Return, by font, what a reader uses to draw and read its text: ToUnicode, widths, encoding, glyphs by CID."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = {}
    for name, ref in page["/Resources"]["/Font"].items():
        font = ref.get_object()
        cid_font = font["/DescendantFonts"][0].get_object()
        fonts[name] = {
            "to_unicode": font["/ToUnicode"].get_object().get_data(),
            "encoding": font["/Encoding"],
            "widths": list(cid_font["/W"]),
            "ros": dict(cid_font["/CIDSystemInfo"]),
            "outlines": outlines_by_cid(cid_font),
            "content": page.get_contents().get_data(),
        }
    return fonts


def test_packed_font_draws_and_reads_as_weasyprints_own(letter_html, monkeypatch):
    html, snapshot = letter_html
    packed = rendering.render_pdf(html, snapshot=snapshot)
    monkeypatch.setattr(weasyprint_fonts.Font, "_harfbuzz_subset", pdf_tuning._weasyprint_subset)
    own = rendering.render_pdf(html, snapshot=snapshot)
    assert len(packed) < len(own) / 2
    packed_fonts, own_fonts = _fonts_of(packed), _fonts_of(own)
    assert packed_fonts.keys() == own_fonts.keys()
    for name, own_font in own_fonts.items():
        packed_font = packed_fonts[name]
        for key in ("to_unicode", "encoding", "widths", "ros", "content"):
            assert packed_font[key] == own_font[key], key
        # Every CID the page uses (each has a width) draws the same outline; WeasyPrint's keeps empty slots.
        used = {cid for cid, outline in own_font["outlines"].items() if outline}
        assert used <= packed_font["outlines"].keys()
        for cid in used:
            assert packed_font["outlines"][cid] == own_font["outlines"][cid], cid
    text = PdfReader(io.BytesIO(packed)).pages[0].extract_text()
    assert text == PdfReader(io.BytesIO(own)).pages[0].extract_text()
    assert "欧阳娜娜" in text


def test_the_packed_charset_is_read_as_fonttools_reads_it(letter_html, monkeypatch):
    fonts = _subset_fonts(letter_html[0], monkeypatch)
    font, glyphs = fonts[0]
    assert pdf_tuning._packable(font)
    file_content = pdf_tuning._subset_packed(font, sorted(glyphs), False)
    charset = TTFont(io.BytesIO(file_content))["CFF "].cff.topDictIndex[0].charset
    cids = pdf_tuning._cff_cids(file_content)
    assert cids == [0] + [int(name.removeprefix("cid")) for name in charset[1:]]
    assert set(glyphs) <= set(cids)
    assert len(cids) < len(glyphs) + 10


def test_a_font_without_an_identity_charset_keeps_its_glyph_ids(letter_html, monkeypatch):
    html, snapshot = letter_html
    monkeypatch.setattr(pdf_tuning, "_has_identity_charset", lambda face: False)
    pdf = rendering.render_pdf(html, snapshot=snapshot)
    for font in _fonts_of(pdf).values():
        assert max(font["outlines"]) > 60_000  # glyphs at their own ids
    for _name, ref in PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].items():
        program = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]["/FontFile3"]
        assert program.get_object()["/Subtype"] == "/OpenType"


def test_fonts_are_packed_only_for_a_pdf_the_letters_finisher_completes(letter_html):
    html = letter_html[0]
    plain = HTML(string=html).write_pdf(font_config=rendering._fonts())
    assert b"/CIDFontType0C" not in plain
    assert b"/OpenType" in plain
    with pytest.raises(RuntimeError, match="CIDFontType0C"), pdf_tuning.packing_fonts():
        HTML(string=html).write_pdf(font_config=rendering._fonts())


def test_the_style_sheet_is_parsed_once_for_every_letter_of_a_template(lawyer_template):
    rendering._stylesheet.cache_clear()
    for number in ("LF-2099-000001", "LF-2099-000002"):
        snapshot = sample_snapshot(lawyer_template)
        snapshot["letter"]["number"] = number
        html, sheets = rendering._split_style(render_html(lawyer_template, snapshot))
        assert "<style" not in html
        assert len(sheets) == 1
    assert rendering._stylesheet.cache_info().hits == 1


@pytest.mark.parametrize(
    "extra_css",
    ['@font-face { font-family: x; src: url("letter-asset:x.otf"); }', "p { color: red !important; }", "@import 'x';"],
)
def test_a_style_sheet_that_reaches_beyond_itself_stays_in_the_html(extra_css):
    html = f"<html><head><style>p {{ margin: 0 }} {extra_css}</style></head><body><p>正文</p></body></html>"
    assert rendering._split_style(html) == (html, [])


def test_a_second_style_element_keeps_every_sheet_in_the_html():
    html = "<html><head><style>p { margin: 0 }</style></head><body><style>p { margin: 1mm }</style></body></html>"
    assert rendering._split_style(html) == (html, [])


def test_the_letter_with_the_parsed_sheet_reads_as_with_the_inline_one(letter_html):
    html, snapshot = letter_html
    number = snapshot["letter"]["number"]

    def page_text(pdf: bytes) -> str:
        return re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())

    inline = page_text(HTML(string=html).write_pdf(font_config=rendering._fonts()))
    parsed = page_text(rendering.render_pdf(html, snapshot=snapshot))
    assert parsed == inline
    # The page footer, "page 1 of 1" and the letter number (set from the body's data-letter-number), comes last.
    assert parsed.endswith(f"第1页/共1页{number}")


def test_the_whole_font_is_copied_once_per_process_and_is_the_same_bytes(letter_html, monkeypatch):
    fonts = _subset_fonts(letter_html[0], monkeypatch) + _subset_fonts(letter_html[0], monkeypatch)
    first, second = fonts[0][0], fonts[-1][0]
    assert first.file_content is second.file_content
    assert first.file_content == pdf_tuning._weasyprint_object_data(first.hb_face)
    assert len(first.file_content) > 10_000_000


def test_fonts_of_other_font_configurations_do_not_pile_up(letter_html):
    html, snapshot = letter_html
    rendering.render_pdf(html, snapshot=snapshot)
    kept = set(pdf_tuning._whole_fonts)
    for _ in range(3):
        HTML(string=html).write_pdf()  # a FontConfiguration, and so new faces, each time
    assert set(pdf_tuning._whole_fonts) == kept
