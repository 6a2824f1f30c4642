"""Admin mixins for rows that belong to cases: who may see them, and finding them by case number.

Kept out of the ``cases.admin`` package so that the ledger's admin (which that package imports)
can use them too.
"""

from django.db.models import QuerySet
from django.http import HttpRequest

from cases.casework.models import Case
from cases.casework.numbers import case_id_from_number


class CaseScoped:
    """Only the rows of cases the viewer may see (``Case.objects.scope``, after ``visible_to``).

    ``scope_via`` is the path from the row to what it shares with a case, ``scope_through`` the
    path from the case to it: by default the row's own case.
    """

    scope_via = "case"
    scope_through = "pk"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Only rows behind cases this user may see."""
        return Case.objects.scope(
            super().get_queryset(request), request.user, via=self.scope_via, through=self.scope_through
        )


class FoundByCaseNumber:
    """A search for a case number (``C00000042``) finds the rows of that case; any other goes to ``search_fields``."""

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Rows of the case named, or the usual search."""
        case_id = case_id_from_number(search_term)
        if case_id is not None:
            return queryset.filter(case_id=case_id), False
        return super().get_search_results(request, queryset, search_term)
