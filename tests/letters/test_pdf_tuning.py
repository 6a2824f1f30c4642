"""The shortcuts in letters.pdf_tuning give the letter WeasyPrint would give."""

import io
import re

import pytest
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.pdf import fonts as weasyprint_fonts

from letters import pdf_tuning, rendering
from letters.documents import render_html, sample_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter_html(lawyer_template):
    snapshot = sample_snapshot(lawyer_template)
    snapshot["addressee"] = {"name": "欧阳娜娜", "address": "广东省深圳市南山区科技园路 88 号 3 栋 1201 室"}
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


def test_one_subsetting_pass_gives_the_same_font_as_weasyprints_two(letter_html, monkeypatch):
    fonts = _subset_fonts(letter_html[0], monkeypatch)
    assert fonts
    for font, glyphs in fonts:
        full = font.file_content
        pdf_tuning._weasyprint_subset(font, glyphs, False)
        expected = font.file_content
        font.file_content = full
        pdf_tuning.subset_in_one_pass(font, glyphs, False)
        assert font.file_content == expected
        assert len(expected) < len(full)


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
        assert program.get_object().get_data()[:4] == b"OTTO"
