"""The API fuzzed from its own schema, in process: no server error, and every response as the schema says."""

import json

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as examples
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from backoffice.wsgi import application


def _our_schema() -> dict:
    """The schema as ``/api/v1/schema/`` serves it, generated here (collection runs before any test host is allowed)."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(_our_schema())
schema.app = application  # called in process, through the whole WSGI stack
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def connection_kept_between_requests():
    """As Django's test client does: a request does not close the test's connection (and its transaction) at its end."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, connection_kept_between_requests):
    root = User.objects.create_superuser("root-fuzz", password="pw-123456")
    return api_client_create(name="fuzz", scopes=list(Scope.values), actor=root)[1]


@schema.parametrize()
@examples(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_the_schema_allows_gets_a_server_error_or_an_undocumented_answer(case, token, settings):
    settings.ALLOWED_HOSTS = ["localhost"]  # the in-process client's host
    # As the lending system's requests arrive through the TLS proxy in front of the back office.
    case.call_and_validate(headers={"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}, checks=CHECKS)
