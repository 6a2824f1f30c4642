"""The filters every report takes from its URL: a date, a range or a month, and product, policy, team, agency.

A bad value is a form error that names the field and quotes the value, never a server error.
"""

import dataclasses
import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Product
from backoffice.reports.models import LineDay
from cases.models import Agency, DunningPolicy, Team
from letters.models import LawFirm, LetterTemplate

MAX_RANGE_DAYS = 366
_QUOTED_LENGTH = 40


class _NamesFieldAndValue:
    """Say which field refused which value, in one sentence the supervisor can act on."""

    invalid_message = _("%(field)s: “%(value)s” is not valid.")

    def clean(self, value: object) -> object:
        """Clean as the field does, replacing its error by one that quotes the field and the value."""
        try:
            return super().clean(value)
        except ValidationError as error:
            if value in self.empty_values:
                raise
            params = {"field": self.label, "value": str(value)[:_QUOTED_LENGTH]}
            raise ValidationError(self.invalid_message, code="invalid", params=params) from error


class DayField(_NamesFieldAndValue, forms.DateField):
    """A day written YYYY-MM-DD."""

    invalid_message = _("%(field)s: “%(value)s” is not a date; write it as YYYY-MM-DD.")
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MonthField(_NamesFieldAndValue, forms.DateField):
    """A month written YYYY-MM, cleaned to its first day."""

    invalid_message = _("%(field)s: “%(value)s” is not a month; write it as YYYY-MM.")
    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


class IdChoiceField(_NamesFieldAndValue, forms.TypedChoiceField):
    """One of a table's rows by its id, or none for all."""

    invalid_message = _("%(field)s: there is none numbered “%(value)s”.")

    def __init__(self, *, label: str, choices: list[tuple[int, str]]) -> None:
        """Offer ``choices`` after an "all" choice."""
        super().__init__(label=label, choices=[("", _("All")), *choices], coerce=int, empty_value=None, required=False)


class NamedChoiceField(_NamesFieldAndValue, forms.ChoiceField):
    """One of a few fixed choices."""

    invalid_message = _("%(field)s: “%(value)s” is not one of the choices.")


class FormatField(NamedChoiceField):
    """The page, or one of the export formats."""

    invalid_message = _("%(field)s: “%(value)s” is not one of page, csv or xlsx.")


GROUP_BY_CHOICES = [
    ("product_id", _("product")),
    ("policy_id", _("policy")),
    ("stage", _("stage")),
    ("team_id", _("team")),
    ("agency_id", _("agency")),
]
# The people report's breakdown: by whoever held the cases.
PEOPLE_GROUP_CHOICES = [("agent_id", _("agent")), ("team_id", _("team")), ("agency_id", _("agency"))]
FORMAT_CHOICES = [("", _("page")), ("csv", "CSV"), ("xlsx", "XLSX")]


@dataclasses.dataclass
class Filters:
    """A report's cleaned filters and the names of the rows they point to (read once per request)."""

    day: datetime.date | None = None
    first: datetime.date | None = None
    last: datetime.date | None = None
    month: datetime.date | None = None
    product: int | None = None
    policy: int | None = None
    team: int | None = None
    agency: int | None = None
    firm: int | None = None
    template: int | None = None
    group_by: str = "product_id"
    names: dict[str, dict[int, str]] = dataclasses.field(default_factory=dict)
    product_policy: dict[int, int] = dataclasses.field(default_factory=dict)

    def product_ids(self) -> list[int] | None:
        """Return the products the product and policy filters keep, or None when they keep all."""
        ids = list(self.product_policy)
        if self.product is not None:
            ids = [self.product] if self.product in self.product_policy else []
        if self.policy is not None:
            ids = [pk for pk in ids if self.product_policy[pk] == self.policy]
        return None if self.product is None and self.policy is None else ids


def agent_names() -> dict[int, str]:
    """Return every login's user name, by id, as the admin's lists show people: one query."""
    return dict(get_user_model().objects.order_by("pk").values_list("pk", "username"))


def last_month_end(today: datetime.date) -> datetime.date:
    """Return the last day of the month before ``today``'s."""
    return today.replace(day=1) - datetime.timedelta(days=1)


class ReportFilterForm(forms.Form):
    """The filters a report declares, from the query string; absent ones take the report's default."""

    format = FormatField(label=_("format"), choices=FORMAT_CHOICES, required=False, widget=forms.HiddenInput)

    def __init__(self, data: dict, *, filters: tuple[str, ...]) -> None:
        """Add the declared fields, reading the choices of product, policy, team and agency (one query each)."""
        super().__init__(data)
        self.declared = filters
        today = timezone.localdate()
        self._add_period_fields(filters)
        products = list(Product.objects.order_by("code").values_list("pk", "code", "name", "policy_id"))
        self.product_policy = {pk: policy for pk, _c, _n, policy in products}
        self.names = {
            "product_id": {pk: f"{name} ({code})" for pk, code, name, _p in products},
            "policy_id": dict(DunningPolicy.objects.order_by("name").values_list("pk", "name")),
        }
        # Teams and agencies only for a report that filters or breaks down by them: one query each.
        if {"team", "agency", "group_by"} & set(filters):
            self.names["team_id"] = dict(Team.objects.order_by("name").values_list("pk", "name"))
            self.names["agency_id"] = dict(Agency.objects.order_by("name").values_list("pk", "name"))
        for name, label in (("product", _("product")), ("policy", _("policy"))):
            self.fields[name] = IdChoiceField(label=label, choices=list(self.names[f"{name}_id"].items()))
        for name, label in (("team", _("team")), ("agency", _("agency"))):
            if name in filters:
                self.fields[name] = IdChoiceField(label=label, choices=list(self.names[f"{name}_id"].items()))
        self._add_letter_fields(filters)
        if "group_by" in filters:
            self.fields["group_by"] = NamedChoiceField(
                label=_("breakdown by"), choices=GROUP_BY_CHOICES, required=False
            )
        if "people_group_by" in filters:
            self.names["agent_id"] = agent_names()
            self.fields["group_by"] = NamedChoiceField(
                label=_("breakdown by"), choices=PEOPLE_GROUP_CHOICES, required=False
            )
        self.today = today

    def _add_letter_fields(self, filters: tuple[str, ...]) -> None:
        """Add the law firm and letter template filters when the report declares them (one query each)."""
        if "firm" in filters:
            self.names["firm_id"] = dict(LawFirm.objects.order_by("name").values_list("pk", "name"))
            self.fields["firm"] = IdChoiceField(label=_("law firm"), choices=list(self.names["firm_id"].items()))
        if "template" in filters:
            templates = LetterTemplate.objects.order_by("code", "language", "version")
            self.names["template_id"] = {
                pk: f"{name} v{version} ({language})"
                for pk, name, version, language in templates.values_list("pk", "name", "version", "language")
            }
            self.fields["template"] = IdChoiceField(
                label=_("letter template"), choices=list(self.names["template_id"].items())
            )

    def _add_period_fields(self, filters: tuple[str, ...]) -> None:
        if "day" in filters:
            self.fields["date"] = DayField(label=_("date"), required=False)
        if "range" in filters:
            self.fields["from"] = DayField(label=pgettext_lazy("date range", "from"), required=False)
            # Which days the range counts: the entry rate's are due dates, the others' the days events happened.
            days = _("Due dates, both included.") if "due_dates" in filters else _("Business days, both included.")
            self.fields["to"] = DayField(label=pgettext_lazy("date range", "to"), required=False, help_text=days)
        if "month" in filters:
            self.fields["month"] = MonthField(label=_("month"), required=False)

    def clean(self) -> dict:
        """Refuse a range that ends before it starts or spans more than ``MAX_RANGE_DAYS``."""
        cleaned = super().clean()
        first, last = cleaned.get("from"), cleaned.get("to")
        if first and last and first > last:
            self.add_error("to", _("to: %(last)s is before from (%(first)s).") % {"last": last, "first": first})
        elif first and last and (last - first).days >= MAX_RANGE_DAYS:
            self.add_error("to", _("The range spans more than %(days)d days.") % {"days": MAX_RANGE_DAYS})
        return cleaned

    def filters(self) -> Filters:
        """Return the cleaned filters with each default filled in (worked out once per request)."""
        if not hasattr(self, "_filters"):
            self._filters = self._filled()
        return self._filters

    def _filled(self) -> Filters:
        data = self.cleaned_data
        last = data.get("to") or self.today - datetime.timedelta(days=1)
        return Filters(
            day=data.get("date") or self._latest_day() if "day" in self.declared else None,
            first=data.get("from") or last - datetime.timedelta(days=29),
            last=last,
            month=data.get("month") or last_month_end(self.today).replace(day=1),
            product=data.get("product"),
            policy=data.get("policy"),
            team=data.get("team"),
            agency=data.get("agency"),
            firm=data.get("firm"),
            template=data.get("template"),
            group_by=data.get("group_by") or self._default_group(),
            names=self.names,
            product_policy=self.product_policy,
        )

    def _default_group(self) -> str:
        field = self.fields.get("group_by")
        return field.choices[0][0] if field is not None else "product_id"

    def _latest_day(self) -> datetime.date:
        latest = LineDay.objects.filter(as_of__lte=self.today).aggregate(day=Max("as_of"))["day"]
        return latest or self.today

    def described(self) -> list[tuple[str, str]]:
        """Return each filter's label and its value as people read it, for the exports' header rows."""
        filters = self.filters()
        shown = []
        for name, field in self.fields.items():
            if name == "format":
                continue
            shown.append((str(field.label), self._shown_value(name, filters)))
        return shown

    def _shown_value(self, name: str, filters: Filters) -> str:
        values = {
            "date": filters.day,
            "from": filters.first,
            "to": filters.last,
            "month": filters.month and filters.month.strftime("%Y-%m"),
            "group_by": dict(self.fields["group_by"].choices).get(filters.group_by)
            if "group_by" in self.fields
            else "",
        }
        if name in values:
            return str(values[name])
        chosen = getattr(filters, name)
        return str(_("All")) if chosen is None else self.names[f"{name}_id"].get(chosen, str(chosen))
