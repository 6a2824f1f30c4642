"""Real PDFs, parsed back."""

import datetime
import io
import json
import logging
import re

import pytest
import zxingcpp
from pypdf import PdfReader

from letters.choices import LetterStatus
from letters.rendering import LetterAssetFetcher, RefusedURL, render_pdf
from letters.services import letter_draft

pytestmark = pytest.mark.django_db


def read(letter):
    with letter.pdf.open("rb") as handle:
        return PdfReader(io.BytesIO(handle.read()))


def text_of(reader):
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def mapped_characters(reader) -> set[str]:
    """Every character the embedded fonts' ToUnicode maps can produce."""
    chars = set()
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            cmap = font.get("/ToUnicode")
            if cmap is None:
                continue
            data = cmap.get_object().get_data().decode("latin-1")
            for hex_value in re.findall(r"<([0-9A-Fa-f]{4,})>\s*(?:\n|$|<)", data) + re.findall(
                r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]+)>", data
            ):
                try:
                    chars.add(bytes.fromhex(hex_value).decode("utf-16-be"))
                except (ValueError, UnicodeDecodeError):
                    continue
    return {c for value in chars for c in value}


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


def test_every_character_of_the_customer_data_has_a_glyph_in_the_embedded_fonts(letter):
    reader = read(letter)
    needed = set(letter.snapshot["addressee"]["name"] + letter.snapshot["addressee"]["address"]) - {" "}
    assert needed <= mapped_characters(reader)


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
    from letters.services import letter_approve, letter_render

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
    from django.core.exceptions import ValidationError

    from cases.casework.services import case_write_off

    case_write_off(case=legal_case, actor=supervisor, reason="核销")
    with pytest.raises(ValidationError, match=legal_case.number):
        letter_draft(case=legal_case, template=lawyer_template, actor=agent, as_of=datetime.date(2026, 3, 21))
