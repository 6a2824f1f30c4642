"""What a letter says: the frozen snapshot of the ledger and case, and the HTML rendered from it."""

import base64
import datetime
import io
import re
from decimal import Decimal

import segno
from django.conf import settings
from django.template import Context, Engine, Template
from django.utils import timezone
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe

from accounts.positions import Amounts
from backoffice.kernel.money import fen_to_yuan
from letters.choices import LetterKind
from letters.models import Lawyer, LetterTemplate
from letters.seal import drawn_seal_svg


def _yuan(fen: int) -> str:
    return f"{fen_to_yuan(fen):,.2f}"


def _amounts(overdue: Amounts, as_of: datetime.date) -> dict:
    """Itemise what is overdue on ``as_of``, from the ledger: due per component, paid, total."""
    oldest = overdue.oldest_due_date
    return {
        "principal": _yuan(overdue.due["principal"]),
        "interest": _yuan(overdue.due["interest"]),
        "fees": _yuan(overdue.due["fees"]),
        "paid": _yuan(overdue.paid_fen),
        "total": _yuan(overdue.total_fen),
        "total_fen": overdue.total_fen,
        "as_of": as_of.isoformat(),
        "overdue_since": (oldest + datetime.timedelta(days=1)).isoformat() if oldest else None,
    }


def verify_url(number: str, code: str) -> str:
    """Return the public verification address of a letter."""
    return f"{settings.LETTER_VERIFY_BASE_URL}/verify/{number}/{code}/"


def build_snapshot(
    *,
    case: object,
    template: LetterTemplate,
    lawyer: Lawyer | None,
    number: str,
    code: str,
    as_of: datetime.date,
    overdue: Amounts,
) -> dict:
    """Freeze everything the letter states, as plain JSON data; ``overdue`` is the ledger's (``line_balance``)."""
    line, customer = case.credit_line, case.credit_line.customer
    firm = template.firm
    amounts = _amounts(overdue, as_of)
    return {
        "letter": {
            "number": number,
            "verification_code": code,
            "date": as_of.isoformat(),
            "kind": template.kind,
            "language": template.language,
            "deadline": (as_of + datetime.timedelta(days=settings.LETTER_DEADLINE_DAYS)).isoformat(),
            "template": f"{template.code} v{template.version}",
            "verify_url": verify_url(number, code),
        },
        "addressee": {"name": customer.name, "address": customer.address},
        "creditor": dict(settings.CREDITOR),
        "firm": {
            "name": firm.name,
            "address": firm.address,
            "licence_number": firm.licence_number,
            "phone": firm.phone,
            "email": firm.email,
            "engagement_reference": firm.engagement_reference,
        }
        if firm
        else None,
        "lawyer": {"name": lawyer.name, "licence_number": lawyer.licence_number} if lawyer else None,
        "debt": {
            "case_number": case.number,
            "contract_number": line.number,
            "product": line.product.name,
            "days_past_due": case.days_past_due,
        },
        "amounts": amounts,
        "frozen_at": timezone.now().isoformat(),
    }


# One mask for every code: choosing the best of the eight (segno's default) is ~3 ms of a letter's
# ~65 ms, and a reader takes the mask from the code itself (tests decode the printed code back).
_QR_MASK = 0


def _qr_img(url: str) -> str:
    # A PNG: WeasyPrint draws it in a fraction of the time it takes to lay out the SVG's modules.
    buffer = io.BytesIO()
    segno.make(url, error="m", mask=_QR_MASK).save(buffer, kind="png", scale=4, border=1)
    data = base64.b64encode(buffer.getvalue()).decode()
    return format_html('<img class="qr" src="data:image/png;base64,{}" alt="QR">', data)


def _seal_data_uri(template: LetterTemplate) -> str:
    firm = template.firm
    if firm and firm.seal:
        with firm.seal.open("rb") as handle:
            data = handle.read()
        kind = "image/svg+xml" if firm.seal.name.endswith(".svg") else "image/png"
    else:
        data = drawn_seal_svg(firm.name if firm else settings.CREDITOR["name"]).encode()
        kind = "image/svg+xml"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def render_html(template: LetterTemplate, snapshot: dict) -> str:
    """Render the template's HTML with the snapshot; every value is escaped by the template engine."""
    engine = Engine.get_default()
    document = Template(template.body_html, engine=engine)
    context = {
        **snapshot,
        "print_css": mark_safe(template.print_css),  # noqa: S308 - written by legal reviewers, not customers
        "qr_code": _qr_img(snapshot["letter"]["verify_url"]),
        "seal_src": _seal_data_uri(template),
        "is_lawyer_letter": template.kind == LetterKind.LAWYER_LETTER,
    }
    return document.render(Context(context, autoescape=True))


def visible_text(html: str) -> str:
    """Return the text a reader sees, whitespace collapsed (for checks on templates)."""
    without_styles = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", strip_tags(without_styles))


def sample_snapshot(template: LetterTemplate) -> dict:
    """Return distinctive sample data, to render a template for preview and for its checks."""
    return {
        "letter": {
            "number": "LF-2099-000001",
            "verification_code": "SAMPLE42",
            "date": "2099-01-15",
            "kind": template.kind,
            "language": template.language,
            "deadline": "2099-01-30",
            "template": f"{template.code} v{template.version}",
            "verify_url": verify_url("LF-2099-000001", "SAMPLE42"),
        },
        "addressee": {"name": "样例收件人", "address": "样例省样例市样例路 99 号"},
        "creditor": dict(settings.CREDITOR),
        "firm": {
            "name": template.firm.name if template.firm else "样例律师事务所",
            "address": template.firm.address if template.firm else "样例地址",
            "licence_number": template.firm.licence_number if template.firm else "SAMPLE-LICENCE",
            "phone": template.firm.phone if template.firm else "000",
            "email": template.firm.email if template.firm else "firm@example.com",
            "engagement_reference": "ENG-SAMPLE-7",
        },
        "lawyer": {"name": "样例律师", "licence_number": "LAWYER-SAMPLE-9"},
        "debt": {
            "case_number": "C99999999",
            "contract_number": "CL-SAMPLE-1",
            "product": "样例产品",
            "days_past_due": 77,
        },
        "amounts": {
            "principal": "1,111.11",
            "interest": "22.22",
            "fees": "33.33",
            "paid": "44.44",
            "total": "1,122.22",
            "total_fen": int(Decimal("1122.22") * 100),
            "as_of": "2099-01-15",
            "overdue_since": "2098-10-30",
        },
        "frozen_at": "2099-01-15T09:00:00+08:00",
    }
