"""Every admin and API URL of the back office, with sample values for its parameters, for the role × URL matrix.

The list is read from the URL resolver and the admin site's registry, so a new screen or endpoint is
in the matrix without anyone adding it: a parameter the table below cannot fill fails the test that
uses this list, naming the URL.
"""

from dataclasses import dataclass
from itertools import product

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from backoffice.reports.registry import REPORTS
from cases.models import Case
from letters.models import Letter

# URL patterns that are not screens of their own, each with the reason it is left out.
LEFT_OUT = {
    "admin/r/<path:content_type_id>/<path:object_id>/": "view on site: a redirect to the object's own page",
    "admin/(?P<url>.*)$": "the admin's catch-all: any other path under /admin/ is a 404",
    "admin/logout/": "ends the session of the role that asks",
    "admin/login/": "the sign-in page: open to everyone",
}
# Django's old-style ``<app>/<model>/<id>/`` address, a redirect to the change page, is left out too.
OLD_STYLE_CHANGE = "<path:object_id>/"
SIMPLE_HISTORY_VERSION = "^([^/]+)/history/([^/]+)/$"
# Sample values of the parameters that are not the row ids of a model.
FIXED_VALUES = {
    "transition": ["escalate_to_collection"],
    "field": ["national_id"],
    "action": ["approve"],
    "decision": ["approve"],
    "name": sorted(REPORTS),
}


@dataclass(frozen=True)
class Url:
    """One URL to GET: its path, and its line in the matrix (the pattern, its fixed values filled in, and whose row)."""

    path: str
    key: str


def _patterns(patterns: list, prefix: str = "", model: type[Model] | None = None):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, route, _model_of(route) or model)
        elif isinstance(pattern, URLPattern):
            yield route, model


def _model_of(route: str) -> type[Model] | None:
    parts = route.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "admin":
        return None
    try:
        model = apps.get_model(parts[1], parts[2])
    except (LookupError, ValueError):
        return None
    return model if model in admin.site._registry else None


def _parameters(route: str) -> list[tuple[str, str]]:
    """(converter, name) of each ``<converter:name>`` and each regex group of the route."""
    found = []
    rest = route
    while "<" in rest:
        inside, rest = rest.split("<", 1)[1].split(">", 1)
        converter, _sep, name = inside.rpartition(":")
        found.append((converter or "str", name))
    return found


def _fill(route: str, values: dict[str, str]) -> str:
    path = route
    for converter, name in _parameters(route):
        spec = f"<{converter}:{name}>" if f"<{converter}:{name}>" in path else f"<{name}>"
        path = path.replace(spec, values[name])
    return "/" + path


def _rows(model: type[Model], users: dict) -> list[tuple[str, Model]]:
    """The sample rows of a model: the agent's, the agency agent's, and another's, as far as they differ.

    A row of the agent's view (or the first row, when the agent sees none); a row of the agency
    agent's view, when it is another; and a row neither of them sees, when there is one.
    """
    model_admin = admin.site._registry[model]
    every = model_admin.get_queryset(_request(users["superuser"])).order_by("pk")
    agents, agencies = (_view(model_admin, users[role]).order_by("pk") for role in ("agent", "agency"))
    first = agents.first() or every.first()
    if first is None:
        return []
    rows = [("", first)]
    theirs = agencies.exclude(pk=first.pk).first()
    if theirs is not None:
        rows.append(("the agency's", theirs))
    outside = every.exclude(pk__in=agents.values("pk")).exclude(pk__in=agencies.values("pk")).first()
    if outside is not None:
        rows.append(("another's", outside))
    return rows


def _view(model_admin: admin.ModelAdmin, user: User) -> QuerySet:
    request = _request(user)
    if not model_admin.has_view_or_change_permission(request):
        return model_admin.model._default_manager.none()
    return model_admin.get_queryset(request)


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def role_urls(users: dict) -> list[Url]:
    """Every admin and API URL with its parameters filled from the rows in the database."""
    urls = []
    for route, model in _patterns(get_resolver().url_patterns):
        if not route.startswith(("admin/", "api/v1/")) or route in LEFT_OUT or route.endswith(OLD_STYLE_CHANGE):
            continue
        urls.extend(_urls_of(route, model, users))
    # The first pattern of a path is the one that answers (``admin/`` is the landing page, then the index).
    first = {}
    for url in urls:
        first.setdefault(url.path, url)
    return list(first.values())


def _urls_of(route: str, model: type[Model] | None, users: dict) -> list[Url]:
    names = [name for _converter, name in _parameters(route)]
    if "app_label" in route:
        labels = sorted({m._meta.app_label for m in admin.site._registry})
        return [Url(f"/admin/{label}/", f"/admin/{label}/") for label in labels]
    if route.endswith(SIMPLE_HISTORY_VERSION):
        return _history_versions(route.removesuffix(SIMPLE_HISTORY_VERSION), model, users)
    if not names:
        return [Url("/" + route, "/" + route)]
    ids = {"object_id", "pk", "id", "number"}
    choices = []
    for name in names:
        if name in FIXED_VALUES:
            choices.append([(name, value, "") for value in FIXED_VALUES[name]])
        elif name in ids and model is not None:
            choices.append([(name, str(row.pk), what) for what, row in _rows(model, users)])
        elif name in ids:
            choices.append([(name, value, what) for what, value in api_ids(route, users)])
        else:
            raise AssertionError(f"no sample value for <{name}> of {route}: add one to FIXED_VALUES")
    urls = []
    for combination in product(*choices):
        values = {name: value for name, value, _what in combination}
        shown = {name: value if name in FIXED_VALUES else f"<{name}>" for name, value, _what in combination}
        whose = " ".join(what for _name, _value, what in combination if what)
        urls.append(Url(_fill(route, values), " ".join(filter(None, [_fill(route, shown), whose]))))
    return urls


def _history_versions(prefix: str, model: type[Model], users: dict) -> list[Url]:
    """The page of one past version of a row (django-simple-history's), for each sample row."""
    urls = []
    for whose, row in _rows(model, users):
        version = row.history.order_by("-history_id").first()
        if version is not None:
            key = " ".join(filter(None, [f"/{prefix}<object_id>/history/<version_id>/", whose]))
            urls.append(Url(f"/{prefix}{row.pk}/history/{version.history_id}/", key))
    return urls


def api_ids(route: str, users: dict) -> list[tuple[str, str]]:
    """The sample ids of an API detail URL: behind a case of the agent's, of the agency's, and of neither."""
    mine, agencys = (Case.objects.visible_to(users[role]).order_by("pk") for role in ("agent", "agency"))
    cases = {
        "": mine,
        "the agency's": agencys.exclude(pk__in=mine.values("pk")),
        "another's": Case.objects.exclude(pk__in=mine.values("pk")).exclude(pk__in=agencys.values("pk")),
    }
    if route.startswith("api/v1/letters/"):
        letters = {whose: Letter.objects.filter(case__in=of).order_by("pk").first() for whose, of in cases.items()}
        return [(whose, letter.number) for whose, letter in letters.items() if letter]
    pick = {
        "api/v1/customers/": lambda case: str(case.credit_line.customer_id),
        "api/v1/credit-lines/": lambda case: case.credit_line.number,
        "api/v1/cases/": lambda case: str(case.pk),
    }
    for prefix, value in pick.items():
        if route.startswith(prefix):
            return [(whose, value(of.first())) for whose, of in cases.items() if of.exists()]
    raise AssertionError(f"no sample id for {route}: add one to api_ids")
