"""Requesting a letter from the case page: the one place the collections app reaches into letters.

Letters read collections, never the other way round, except for this action (named in the layering contract).
"""

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _

from cases.admin.case_page import CasePage
from cases.casework.models import Case
from letters.forms import RequestLetterForm
from letters.services import letter_draft


class CaseLetterActions(CasePage):
    """*Request a letter* on the case page."""

    def case_page_urls(self) -> list[URLPattern]:
        """Add the letter request page."""
        return [self.case_url("letter/", self.request_letter_view, "request_letter"), *super().case_page_urls()]

    def request_letter_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Choose an active template and draft a letter for the case (refused on hold or closed)."""

        def draft(case: Case, data: dict) -> str:
            letter = letter_draft(case=case, template=data["template"], actor=request.user)
            return _("Letter %(number)s drafted; it awaits approval.") % {"number": letter.number}

        return self.case_form(
            request,
            object_id,
            allowed=lambda case: request.user.has_perm("letters.request_letter"),
            form_class=RequestLetterForm,
            title=_("Request a letter"),
            act=draft,
        )
