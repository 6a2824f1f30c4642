"""The people report's drill-down into the case list: the cases behind one of its figures, for one holder."""

import datetime

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cases.workload.holding import FIGURES, HOLDER_KEYS, Period, cases_behind_sql

FIGURE_LABELS = {
    "in_hand": _("cases in hand"),
    "assigned": _("cases assigned"),
    "never_contacted": _("cases in hand never contacted"),
    "collected": _("cases with money collected"),
    "contacts": _("cases contacted"),
    "right_party": _("cases with a right-party contact"),
    "first_contacts": _("cases with a first contact"),
    "promises_made": _("cases with a promise made"),
    "promises_kept": _("cases with a promise kept on its date"),
}


def parse_holder(value: str) -> dict[str, int] | None:
    """Return the holder keys of ``a5``, ``t3.g0`` … (agent, team, agency; 0 for none), or None when malformed."""
    holder = {}
    for part in value.split("."):
        key, number = HOLDER_KEYS.get(part[:1]), part[1:]
        if key is None or not number.isdigit() or key in holder:
            return None
        holder[key] = int(number)
    return holder or None


class PeopleFigureFilter(admin.SimpleListFilter):
    """Keep the cases behind one figure of the people report: ``people`` (the figure), ``holder``,
    ``people_from`` and ``people_to`` (business days, both included), as the report's links write them."""

    title = _("people report")
    parameter_name = "people"
    extra_parameters = ("holder", "people_from", "people_to")

    def __init__(self, request: HttpRequest, params: dict, model: object, model_admin: admin.ModelAdmin) -> None:
        """Take the figure's other parameters too, so that the list accepts them as declared."""
        self.extra = {name: params.pop(name)[-1] for name in self.extra_parameters if name in params}
        super().__init__(request, params, model, model_admin)

    def expected_parameters(self) -> list[str]:
        """Name every parameter of the filter, so that clearing it clears them all."""
        return [self.parameter_name, *self.extra_parameters]

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Offer only the figure in use: the filter is reached from the report, never chosen here.

        An unknown figure is offered too, so that the list applies the filter and refuses it.
        """
        value = self.value()
        return [] if value is None else [(value, FIGURE_LABELS.get(value, value))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Keep the cases behind the figure; refuse a malformed holder or day as the admin refuses a bad lookup."""
        if self.value() is None:
            return queryset
        holder = parse_holder(self.extra.get("holder", ""))
        try:
            first = datetime.date.fromisoformat(self.extra.get("people_from", ""))
            last = datetime.date.fromisoformat(self.extra.get("people_to", ""))
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error
        if self.value() not in FIGURES or holder is None or first > last:
            raise IncorrectLookupParameters(self.value())
        sql, params = cases_behind_sql(self.value(), Period(first, last), holder)
        # Only our own SQL is spliced in; the holder and the days are bound.
        return queryset.filter(pk__in=RawSQL(sql, params))  # noqa: S611 - values are bound
