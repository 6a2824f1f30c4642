"""The shared admin kit: lists filtered only as declared, read-only lists, record inlines, money columns,
and the one personal-data mask, shown to every viewer.

Every app's admin builds on these; none of them knows any app's models.
"""

from collections.abc import Callable

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.options import IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.utils import get_fields_from_path, lookup_spawns_duplicates
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backoffice.kernel.admin_lookups import CheckedChangeList
from backoffice.kernel.money import format_yuan
from backoffice.kernel.pagination import LargeTablePaginator

REVEAL_PERMISSION = "accounts.reveal_personal_data"
# Every mask shows the last four characters of the number, so searching by them tells nothing new.
SHOWN_TAIL = 4
# The admin's own query parameters: paging, sorting, searching, popups, facets, the error flag and
# the filters a change page carries back to its list.
ADMIN_PARAMETERS = frozenset(
    {ALL_VAR, ORDER_VAR, PAGE_VAR, SEARCH_VAR, ERROR_FLAG, IS_POPUP_VAR, TO_FIELD_VAR, IS_FACETS_VAR}
    | {"_changelist_filters"}
)


def may_reveal_personal_data(request: HttpRequest) -> bool:
    """Return whether the user may reveal a full number, which finding a row by the whole number does."""
    return request.user.has_perm(REVEAL_PERMISSION)


def money_column(field: str, description: str) -> object:
    """Return an admin column showing an integer fen field as yuan."""

    @admin.display(description=description, ordering=field)
    def column(self: admin.ModelAdmin, obj: object) -> str:
        return format_yuan(getattr(obj, field))

    return column


class DeclaredFiltersOnly:
    """A list is filtered only by what its admin declares: its list filters, its date hierarchy, and the
    admin's own parameters (``q``, ``o``, ``p``, ``_popup``...).

    Django's admin takes a filter on any field from the URL; ``?national_id__startswith=3505`` asked
    digit by digit, or ``__gt`` by halving, rebuilds a masked number, and ``__regex`` runs whatever
    pattern it is given. Anything not declared is refused (``DisallowedModelAdminLookup``: a 400).
    """

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[CheckedChangeList]:
        """Return the change list that checks its filters' values before it queries (``admin_lookups``)."""
        return CheckedChangeList

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """Allow a declared filter's own parameters, and the raw-id popups Django narrows by ``limit_choices_to``."""
        return lookup in self.declared_lookups(request) or self._narrows_a_popup(lookup, value)

    def declared_lookups(self, request: HttpRequest) -> frozenset[str]:
        """Return every query parameter this viewer's list may carry."""
        names = set(ADMIN_PARAMETERS)
        if self.date_hierarchy:
            names |= {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        for list_filter in self.get_list_filter(request):
            names |= self._filter_parameters(request, list_filter)
        return frozenset(names)

    def _filter_parameters(self, request: HttpRequest, list_filter: object) -> frozenset[str]:
        # Built once per filter: a field filter asks the database for its choices when it is made.
        known = self.__dict__.setdefault("_known_filter_parameters", {})
        key = tuple(list_filter) if isinstance(list_filter, list) else list_filter
        if key not in known:
            known[key] = frozenset(self._parameters_of(request, list_filter))
        return known[key]

    def _parameters_of(self, request: HttpRequest, list_filter: object) -> list[str]:
        if isinstance(list_filter, type) and issubclass(list_filter, admin.SimpleListFilter):
            # A simple filter reads one parameter, or declares the others it reads (``extra_parameters``).
            return [list_filter.parameter_name, *getattr(list_filter, "extra_parameters", ())]
        if callable(list_filter):
            return list_filter(request, {}, self.model, self).expected_parameters()
        field_path, filter_class = (
            list_filter if isinstance(list_filter, (list, tuple)) else (list_filter, admin.FieldListFilter.create)
        )
        field = get_fields_from_path(self.model, field_path)[-1]
        spec = filter_class(field, request, {}, self.model, self, field_path=field_path)
        return [field_path, *spec.expected_parameters()]

    def _narrows_a_popup(self, lookup: str, value: str) -> bool:
        for fk_lookup in self.model._meta.related_fkey_lookups:
            limits = fk_lookup() if callable(fk_lookup) else fk_lookup
            if (lookup, value) in widgets.url_params_from_lookup_dict(limits).items():
                return True
        return False


class ReadOnlyAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """Rows that change only through services: nobody adds, edits or deletes them here."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are one COUNT per filter choice

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Refuse adding."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Refuse editing; viewing stays governed by the view permission."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Refuse deleting."""
        return False


class RecordInline(admin.TabularInline):
    """Rows shown under their parent as a record: every field read-only, nothing added, changed or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        """Every field shown is read-only."""
        return list(self.fields)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Rows arrive through the services, never from this form."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """A record is not edited."""
        return False


class DrillDownFilter(admin.ListFilter):
    """A list filter a report's figure links to: its own URL parameters, shown only while in use.

    Subclasses name their ``parameters``, say what they keep in ``described()`` and filter in ``queryset()``.
    """

    parameters: tuple[str, ...] = ()
    template = "admin/filter.html"

    def __init__(self, request: HttpRequest, params: dict, model: object, model_admin: admin.ModelAdmin) -> None:
        """Take the filter's own parameters out of the query."""
        super().__init__(request, params, model, model_admin)
        self.used = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.used[name] = value[-1] if isinstance(value, list) else value

    def expected_parameters(self) -> list[str]:
        """Name the query parameters this filter reads."""
        return list(self.parameters)

    def has_output(self) -> bool:
        """Show the filter only while it is in use (it is reached from a report)."""
        return bool(self.used)

    def described(self) -> str:
        """Say what the filter keeps now, for the filter panel."""
        raise NotImplementedError

    def choices(self, changelist: object) -> list[dict]:
        """Offer to drop the filter, beside what it keeps now."""
        return [
            {
                "selected": False,
                "query_string": changelist.get_query_string(remove=self.parameters),
                "display": _("All"),
            },
            {"selected": True, "query_string": changelist.get_query_string(), "display": self.described()},
        ]


def _value_at(obj: object, path: str) -> str:
    for name in path.split("__"):
        obj = getattr(obj, name)
    return obj or ""


def _masked_column(path: str, label: str, mask: Callable[[str], str]) -> Callable:
    @admin.display(description=label)
    def column(self: admin.ModelAdmin, obj: object) -> str:
        return mask(_value_at(obj, path))

    return column


class MaskedPersonalData(DeclaredFiltersOnly):
    """Personal numbers masked for every viewer, whatever their role, on lists, pages and searches.

    ``masked_fields`` names each column that shows a personal number, with the path from the row to
    the number, its label and its mask function: ``{"mobile": ("mobile", _("mobile"), mask_mobile)}``.
    Lists, fields and fieldsets name the column; every viewer gets its masked form (``<field>_masked``
    for a column that is the model field itself, the column's own name otherwise), read-only. The
    only ways to a full number are a reveal, with a reason, and a search by the whole number: each
    leaves an audit row (``accounts.services``).

    ``masked_search`` names each personal number the list is searched by, with the path from the row
    to it and the service that records who found rows by the whole number, called with the rows that
    hold it (``found``), the field and the viewer (``actor``):
    ``{"customer__mobile": customers_found_by_number}``. Viewers find rows by its last four
    characters, as the mask shows them, or by the whole number (a valid value of the field), exactly;
    finding rows by the whole number reveals it, so it is recorded as a reveal, and needs the reveal
    permission. Any other part of a number finds nothing, and the search fields that name these paths
    are not searched as they are.
    """

    masked_fields: dict[str, tuple[str, str, Callable[[str], str]]] = {}
    masked_search: dict[str, Callable[..., object]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Give the admin the masked form of each masked column."""
        super().__init_subclass__(**kwargs)
        for column, (path, label, mask) in cls.masked_fields.items():
            setattr(cls, cls._masked_name(column), _masked_column(path, label, mask))

    @classmethod
    def _masked_name(cls, column: str) -> str:
        """Return the name of a column's masked form: ``<field>_masked`` for the model field itself, else its own."""
        return f"{column}_masked" if cls.masked_fields[column][0] == column else column

    def _shown_as(self, names: list[str]) -> list[str]:
        return [self._masked_name(name) if name in self.masked_fields else name for name in names]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        """Each masked column in its masked form."""
        return self._shown_as(list(super().get_list_display(request)))

    def get_list_display_links(self, request: HttpRequest, list_display: list[str]) -> list[str] | None:
        """Links stay on the columns they were declared on, in their masked form."""
        links = super().get_list_display_links(request, list_display)
        return self._shown_as(list(links)) if links else links

    def _form_shows(self, names: list[str], obj: object) -> list[str]:
        # Adding a row, the numbers are typed in: nothing is stored yet, so nothing is shown.
        return names if obj is None else self._shown_as(names)

    def get_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        """Each masked field in its masked form (on a row that exists)."""
        return list(dict.fromkeys(self._form_shows(list(super().get_fields(request, obj)), obj)))

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> list:
        """Each masked field in its masked form, in every fieldset (on a row that exists)."""
        return [
            (title, {**options, "fields": self._form_shows(list(options["fields"]), obj)})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        """The generated columns are read-only."""
        readonly = self._form_shows(list(super().get_readonly_fields(request, obj)), obj)
        generated = [self._masked_name(column) for column in self.masked_fields]
        return list(dict.fromkeys([*readonly, *generated]))

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        """The search fields, but those on personal numbers: those are searched as the mask allows."""
        fields = list(super().get_search_fields(request))
        return [field for field in fields if not self._names_masked_number(str(field))]

    def _names_masked_number(self, search_field: str) -> bool:
        path = search_field.lstrip("^=@")
        return any(path == masked or path.startswith(f"{masked}__") for masked in self.masked_search)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """The usual search, and the rows found by a personal number as the mask allows."""
        if not self.masked_search or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        if self.get_search_fields(request):
            found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        else:
            found, may_have_duplicates = queryset.none(), False
        term = search_term.strip().upper()  # numbers are stored with a capital X
        if len(term) == SHOWN_TAIL:
            lookups = [f"{path}__endswith" for path in self.masked_search]
        elif may_reveal_personal_data(request):
            lookups = [path for path in self.masked_search if self._is_whole(path, term)]
            for path in lookups:
                self._record_found_by(request, queryset.filter(**{path: term}), path)
        else:
            lookups = []
        if not lookups:
            return found, may_have_duplicates
        by_number = queryset.filter(Q.create([(lookup, term) for lookup in lookups], connector=Q.OR))
        spawns_duplicates = any(lookup_spawns_duplicates(self.opts, lookup) for lookup in lookups)
        return found | by_number, may_have_duplicates or spawns_duplicates

    def _is_whole(self, path: str, term: str) -> bool:
        field = get_fields_from_path(self.model, path)[-1]
        try:
            field.run_validators(term)
        except ValidationError:
            return False
        return len(term) == field.max_length

    def _record_found_by(self, request: HttpRequest, rows: QuerySet, path: str) -> None:
        holder, _sep, field = path.rpartition("__")
        number_field = get_fields_from_path(self.model, path)[-1]
        holders = number_field.model._default_manager.filter(pk__in=rows.order_by().values(holder or "pk"))
        self.masked_search[path](found=holders, field=field, actor=request.user)
