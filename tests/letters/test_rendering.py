"""Real PDFs, parsed back."""

import datetime
import io
import json
import logging
import re

import pytest
import zxingcpp
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from cases.casework.services import case_write_off
from letters.choices import LetterStatus
from letters.rendering import LetterAssetFetcher, RefusedURL, render_pdf
from letters.services import letter_approve, letter_draft, letter_render
from tests.letters.pdf_fonts import embedded_fonts, glyphs_by_character

pytestmark = pytest.mark.django_db


def read(letter):
    with letter.pdf.open("rb") as handle:
        return PdfReader(io.BytesIO(handle.read()))


def text_of(reader):
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_the_letter_shows_the_customer_the_itemised_amounts_and_its_number(letter):
    assert letter.status == LetterStatus.PENDING_APPROVAL
    text = text_of(read(letter))
    assert "欧阳娜娜" in text
    assert "广东省深圳市南山区科技园路88号3栋1201" in text
    assert letter.number in text
    amounts = letter.snapshot["amounts"]
    assert amounts["principal"] == "6,543.21"
    for value in ("principal", "interest", "fees", "total"):
        assert amounts[value] in text
    assert "律师函" in text


# Chinese names and place names reach beyond the main font: 𠀀 (U+20000), 𪚥 and 𤭢 are CJK
# Extension B characters Noto Serif CJK lacks; 𠮷 (U+20BB7) is an Extension B one it has.
RARE_NAME = "欧阳𠀀𪚥"
RARE_ADDRESS = "广东省深圳市南山区𤭢𠮷路 88 号 3 栋 1201"


@pytest.fixture
def rare_letter(legal_case, lawyer_template, agent, draft_rendered):
    customer = legal_case.credit_line.customer
    customer.name, customer.address = RARE_NAME, RARE_ADDRESS
    customer.save()
    return draft_rendered(case=legal_case, template=lawyer_template, actor=agent, as_of=datetime.date(2026, 3, 20))


def test_every_character_of_the_customer_data_is_drawn_by_an_embedded_font(rare_letter):
    addressee = rare_letter.snapshot["addressee"]
    assert (addressee["name"], addressee["address"]) == (RARE_NAME, RARE_ADDRESS)
    glyphs = glyphs_by_character(read(rare_letter).pages[0])
    needed = sorted(set(addressee["name"] + addressee["address"]) - {" "})
    # Blank: no glyph maps back to the character, or one that does draws no outline (.notdef included).
    blank = [
        f"{character} U+{ord(character):04X}"
        for character in needed
        if not glyphs.get(character) or not all(outline for _font, _cid, outline in glyphs[character])
    ]
    assert blank == []
    assert RARE_NAME in text_of(read(rare_letter))


def test_characters_beyond_the_main_font_come_from_the_one_fallback_the_style_sheet_names(rare_letter):
    # Left to fontconfig, some come from HanaMinA instead: one more font to subset and embed.
    assert embedded_fonts(read(rare_letter).pages[0]) == {"Noto-Serif-CJK-SC", "HanaMinB-Medium"}


def test_a_letter_without_rare_characters_embeds_the_main_font_alone(letter):
    assert embedded_fonts(read(letter).pages[0]) == {"Noto-Serif-CJK-SC"}


def test_the_printed_qr_code_reads_back_as_the_letters_verification_address(letter):
    page = read(letter).pages[0]
    decoded = [code.text for image in page.images for code in zxingcpp.read_barcodes(image.image)]
    assert decoded == [letter.snapshot["letter"]["verify_url"]]
    assert f"/verify/{letter.number}/{letter.verification_code}/" in decoded[0]


def test_the_pdf_is_identified_as_pdf_a_3b_and_carries_its_snapshot(letter):
    reader = read(letter)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part[^0-9]*3", xmp)
    assert re.search(r"pdfaid:conformance[^A-Z]*B", xmp)
    assert reader.metadata.title.endswith(letter.number)
    assert letter.number in reader.metadata.get("/Keywords", "")
    attached = json.loads(reader.attachments["snapshot.json"][0])
    assert attached["letter"]["number"] == letter.number
    assert attached["addressee"]["name"] == "欧阳娜娜"
    assert not reader.is_encrypted


def test_html_in_customer_data_is_printed_as_text_and_nothing_is_fetched(
    legal_case, lawyer_template, agent, caplog, draft_rendered
):
    customer = legal_case.credit_line.customer
    customer.address = '<img src="file:///etc/passwd"> <b>粗体</b> 街道 1 号'
    customer.save()
    with caplog.at_level(logging.WARNING, logger="letters.rendering"):
        letter = draft_rendered(case=legal_case, template=lawyer_template, actor=agent)
    text = "".join(page.extract_text() for page in read(letter).pages)
    assert '<img src="file:///etc/passwd">' in text
    assert "<b>粗体</b>" in text
    assert "root:" not in text
    assert "refused" not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:8000/admin/",
        "https://example.com/x.png",
        "letter-asset:../../settings.py",
    ],
)
def test_the_fetcher_refuses_anything_but_our_assets(url, caplog):
    with caplog.at_level(logging.WARNING, logger="letters.rendering"), pytest.raises(RefusedURL):
        LetterAssetFetcher().fetch(url)
    assert "refused" in caplog.text


def test_a_template_that_points_at_a_local_file_renders_without_it_and_the_refusal_is_logged(caplog):
    html = '<html><body><p>正文</p><img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png"></body></html>'
    with caplog.at_level(logging.WARNING, logger="letters.rendering"):
        pdf = render_pdf(html, snapshot={"letter": {"number": "T"}})
    assert pdf.startswith(b"%PDF")
    assert caplog.text.count("refused") >= 2


def test_a_second_rendering_needs_a_new_approval(letter, legal):

    seen = letter.pdf_sha256
    letter_render(letter=letter)
    letter.refresh_from_db()
    with pytest.raises(Exception, match="changed since you opened it"):
        letter_approve(letter=letter, actor=legal, seen_sha256="0" * 64)
    assert letter.status == LetterStatus.PENDING_APPROVAL
    assert (letter.approved_by, letter.approved_sha256) == (None, "")
    letter_approve(letter=letter, actor=legal, seen_sha256=letter.pdf_sha256)
    letter.refresh_from_db()
    assert letter.approved_sha256 == letter.pdf_sha256
    assert len(seen) == 64


def test_letters_for_cases_on_hold_or_closed_are_refused(legal_case, lawyer_template, agent, supervisor):

    case_write_off(case=legal_case, actor=supervisor, reason="核销")
    with pytest.raises(ValidationError, match=legal_case.number):
        letter_draft(case=legal_case, template=lawyer_template, actor=agent, as_of=datetime.date(2026, 3, 21))
