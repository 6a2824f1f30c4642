"""The public verification page: anyone holding a letter can check that it is genuine."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from letters.choices import LetterKind, LetterStatus
from letters.forms import VerificationForm
from letters.models import Letter
from letters.services import letter_verify
from letters.verification import verification_failed, verification_refused

TEMPLATE = "letters/verify.html"


def _status(letter: Letter) -> str:
    if letter.status == LetterStatus.SENT:
        return "valid"
    if letter.status == LetterStatus.CANCELLED:
        return "cancelled"
    return "not_issued"


def _found(request: HttpRequest, letter: Letter) -> HttpResponse:
    issuer = letter.firm.name if letter.kind == LetterKind.LAWYER_LETTER else letter.snapshot["creditor"]["name"]
    context = {
        "state": _status(letter),
        "number": letter.number,
        "issuer": issuer,
        "date": letter.snapshot["letter"]["date"],
        "kind": letter.get_kind_display(),
    }
    return TemplateResponse(request, TEMPLATE, context)


def _answer(request: HttpRequest, data: dict[str, str]) -> HttpResponse:
    """Verify a number and code; refuse while cooling off, and count a failure, the same for every mistake."""
    form = VerificationForm(data)
    number = form.cleaned_data["number"] if form.is_valid() else str(data.get("number", "")).strip()
    if verification_refused(request, number):
        return TemplateResponse(request, TEMPLATE, {"state": "rate_limited"}, status=429)
    letter = letter_verify(**form.cleaned_data) if form.is_valid() else None
    if letter is None:
        verification_failed(request, number)
        return TemplateResponse(request, TEMPLATE, {"state": "not_found"}, status=404)
    return _found(request, letter)


@never_cache
def verify(request: HttpRequest, number: str = "", code: str = "") -> HttpResponse:
    """Show issuer, date and validity of a letter; the same "not found" for a wrong number or code.

    The form's answer moves to the letter's own address (the one its QR code carries), when the
    number and the code could be a letter's; anything else is answered where it was asked.
    """
    if number:
        return _answer(request, {"number": number, "code": code})
    if "number" not in request.GET and "code" not in request.GET:
        return TemplateResponse(request, TEMPLATE, {"state": "ask"})
    form = VerificationForm(request.GET)
    if form.is_valid():
        return redirect(reverse("letters:verify", args=[form.cleaned_data["number"], form.cleaned_data["code"]]))
    return _answer(request, request.GET)
