"""The values a list is filtered by, checked against their fields before any query runs.

Django's admin passes a filter's value from the URL to the database as it comes. A value its field can
never hold then fails inside the database driver, past the admin's own checks, as a server error: an id
past the column's 64 bits (``OverflowError`` binding it), a date-time whose conversion to UTC leaves the
calendar (1 January of year 1 in Shanghai), a drill-down to the last day of year 9999, a NUL character
(PostgreSQL refuses it in text; the search box's own form already refuses it). Here an id no row can have gives an empty list, as an id no row has
does; any other value the field cannot hold is a bad lookup, which the admin answers as it answers every
bad lookup: back to the list with ``?e=1``, saying the filter is wrong.
"""

import datetime

from django.contrib.admin import SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.utils import timezone

# The lookups whose values are values of the field itself (``in`` a comma-separated list of them).
_VALUE_LOOKUPS = frozenset({"exact", "iexact", "gt", "gte", "lt", "lte", "in"})
_DATE_PARTS = {"year": (datetime.MINYEAR + 1, datetime.MAXYEAR - 1), "month": (1, 12), "day": (1, 31)}
NUL = "\x00"


class ImpossibleValue(Exception):
    """A value of the right kind that no row can hold (an id past the column's range): nothing matches."""


def integer_in_range(field: models.Field, text: str) -> int:
    """Return ``text`` as an integer of ``field``; raise ``ImpossibleValue`` past its column's range."""
    number = int(text)
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    if (low is not None and number < low) or (high is not None and number > high):
        raise ImpossibleValue(field.name)
    return number


def row_id(model: type[models.Model], text: str) -> int | None:
    """Return ``text`` as a primary key of ``model``, or ``None`` if no row can have it (not digits, or too big)."""
    try:
        return integer_in_range(model._meta.pk, text) if text.isascii() and text.isdigit() else None
    except ImpossibleValue:
        return None


def _compared_field(field: models.Field | models.ForeignObjectRel) -> models.Field:
    """Return the field a filter on ``field`` compares values with: a relation's target key."""
    if isinstance(field, models.ForeignKey):
        return field.target_field
    if field.is_relation:
        return field.related_model._meta.pk
    return field


def _field_and_lookup(model: type[models.Model], key: str) -> tuple[models.Field | None, str]:
    """Walk ``key`` (``credit_line__product__id__exact``) to its last field and the lookup after it."""
    field, parts = None, key.split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return field, LOOKUP_SEP.join(parts[index:])
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return field, "exact"


def _check_date_time(value: datetime.datetime | None) -> None:
    if value is None:
        return
    aware = value if timezone.is_aware(value) else timezone.make_aware(value)
    aware.astimezone(datetime.UTC)  # what the database is given; raises OverflowError at the calendar's ends


def check_value(field: models.Field, text: str) -> None:
    """Parse ``text`` as a value of ``field`` as the database will be given it (see ``check_lookup``)."""
    field = _compared_field(field)
    if isinstance(field, (models.IntegerField, models.AutoField)):
        integer_in_range(field, text)
    elif isinstance(field, models.DateTimeField):
        _check_date_time(field.to_python(text))
    elif isinstance(field, (models.DateField, models.DecimalField, models.BooleanField, models.UUIDField)):
        field.to_python(text)


def _check_date_part(part: str, text: str) -> None:
    low, high = _DATE_PARTS[part]
    if not low <= int(text) <= high:
        raise ValueError(part)


def check_lookup(model: type[models.Model], key: str, values: list[str]) -> None:
    """Check every value of one query parameter of ``model``'s list, by the field and lookup it names.

    Raise ``ValueError``, ``ValidationError`` or ``OverflowError`` for a value the field cannot hold,
    ``ImpossibleValue`` for one no row holds.
    """
    if any(NUL in value for value in [key, *values]):
        raise ValueError(NUL)
    field, lookup = _field_and_lookup(model, key)
    if field is None:
        return
    if lookup in _DATE_PARTS:
        for text in values:
            _check_date_part(lookup, text)
    elif lookup in _VALUE_LOOKUPS:
        for text in values:
            for item in text.split(",") if lookup == "in" else [text]:
                check_value(field, item)


def _is_simple_filter(list_filter: object) -> bool:
    return isinstance(list_filter, type) and issubclass(list_filter, SimpleListFilter)


class CheckedChangeList(ChangeList):
    """A change list whose filter values are checked against their fields before its query is built."""

    nothing_matches = False

    def get_filters(self, request: HttpRequest) -> tuple:
        """Check the filters' values, then build the filters as Django does (its date drill-down included).

        A list filter of our own (``SimpleListFilter``) reads its parameter itself and is left to do so.
        """
        own = {spec.parameter_name for spec in self.list_filter if _is_simple_filter(spec)}
        for key, values in self.get_filters_params().items():
            if key in own:
                continue
            try:
                check_lookup(self.model, key, values)
            except ImpossibleValue:
                self.nothing_matches = True
            except (ValueError, ValidationError, OverflowError) as error:
                raise IncorrectLookupParameters(error) from error
        try:
            return super().get_filters(request)
        except OverflowError as error:  # a drill-down to the end of year 9999
            raise IncorrectLookupParameters(error) from error

    def get_queryset(self, request: HttpRequest, exclude_parameters: list[str] | None = None) -> models.QuerySet:
        """Return the list's rows, none at all when a filter asks for an id no row can have."""
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.none() if self.nothing_matches else queryset
