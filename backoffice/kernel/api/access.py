"""Which rows an API caller may read: every row for an API client, and for a person exactly the rows the
admin shows them (the admin's own queryset is the one access helper; the API never writes a second copy)."""

from django.contrib import admin
from django.db.models import Model, QuerySet
from rest_framework.request import Request

from backoffice.kernel.api.auth import api_client_of


def readable(request: Request, model: type[Model]) -> QuerySet:
    """Return the rows of ``model`` the caller may read."""
    if api_client_of(request) is not None:
        return model._default_manager.all()
    return admin.site._registry[model].get_queryset(request)
