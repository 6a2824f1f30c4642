"""The public verification page: anyone holding a letter can check that it is genuine."""

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from letters.choices import LetterKind, LetterStatus
from letters.services import letter_verify

# Fake lawyer letters are a common scam, and so is guessing codes: a few tries per minute suffice.
VERIFY_ATTEMPTS = 20
VERIFY_WINDOW_SECONDS = 600


def _too_many_attempts(request: HttpRequest) -> bool:
    key = f"letters:verify:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, VERIFY_WINDOW_SECONDS)
    return cache.incr(key) > VERIFY_ATTEMPTS


def _status(letter: object) -> str:
    if letter.status == LetterStatus.SENT:
        return "valid"
    if letter.status == LetterStatus.CANCELLED:
        return "cancelled"
    return "not_issued"


@never_cache
def verify(request: HttpRequest, number: str = "", code: str = "") -> HttpResponse:
    """Show issuer, date and validity of a letter; the same "not found" for a wrong number or code."""
    if _too_many_attempts(request):
        return TemplateResponse(request, "letters/verify.html", {"state": "rate_limited"}, status=429)
    if request.GET.get("number") and request.GET.get("code"):
        return redirect(reverse("letters:verify", args=[request.GET["number"].strip(), request.GET["code"].strip()]))
    if not number:
        return TemplateResponse(request, "letters/verify.html", {"state": "ask"})
    letter = letter_verify(number=number, code=code)
    if letter is None:
        return TemplateResponse(request, "letters/verify.html", {"state": "not_found"}, status=404)
    issuer = letter.firm.name if letter.kind == LetterKind.LAWYER_LETTER else letter.snapshot["creditor"]["name"]
    context = {
        "state": _status(letter),
        "number": letter.number,
        "issuer": issuer,
        "date": letter.snapshot["letter"]["date"],
        "kind": letter.get_kind_display(),
    }
    return TemplateResponse(request, "letters/verify.html", context)
