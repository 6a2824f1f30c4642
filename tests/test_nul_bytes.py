"""A NUL character in any text the API or an admin form takes is refused naming the field, never a server error.

PostgreSQL refuses NUL in text and in ``jsonb`` (where a proposal's values, an event's data and a
letter's snapshot are kept), so a NUL that got past the checks would fail the write with a 500 there:
run these on PostgreSQL too.
"""

import datetime

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from accounts.services import payment_post
from backoffice.kernel.api.scopes import Scope
from backoffice.kernel.api.services import api_client_create
from cases.models import Case
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

NUL = "\x00"
PAID = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def world(run_dunning):
    """A line with a case and a payment, and an API client that may write the ledger and contacts."""
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 1))
    payment_post(credit_line=line, amount="10.00", external_reference="P-NUL-1", channel="alipay", received_at=PAID)
    root = User.objects.create_superuser("root-nul", password="pw-123456")
    _client, token = api_client_create(name="core-nul", scopes=[Scope.LEDGER_WRITE, Scope.CONTACTS_WRITE], actor=root)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return {"line": line, "case": Case.objects.get(credit_line=line), "api": api, "root": root}


def requests(world) -> list[tuple[str, object]]:
    """(URL, a valid body) of every write the API takes."""
    line, case = world["line"], world["case"]
    customer = {
        "national_id": "110101199003074514",
        "name": "王伟",
        "mobile": "13812345678",
        "email": "wang@example.com",
        "address": "北京市东城区示例大街 8 号",
        "time_zone": "Asia/Shanghai",
        "preferred_language": "zh-hans",
    }
    credit_line = {
        "number": "CL-NUL-2",
        "customer_national_id": line.customer.national_id,
        "product": line.product.code,
        "limit": "5000.00",
        "opened_on": "2025-06-01",
    }
    bill = {"due_date": "2026-01-10", "principal_due": "900.00", "reason": "更正账单"}
    payment = {
        "credit_line": line.number,
        "external_reference": "P-NUL-2",
        "amount": "10.00",
        "channel": "alipay",
        "received_at": "2026-03-02T10:00:00+08:00",
    }
    reversal = {"payment": "P-NUL-1", "external_reference": "R-NUL-1", "reason": "bounced", "note": "银行退票"}
    contact = {
        "case": case.number,
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "channel": "call",
        "outcome": "connected",
        "direction": "outbound",
        "party": "customer",
        "phone_number": "13812345678",
        "identity_disclosed": True,
        "notes": "客户承诺下周还款",
        "recording_reference": "REC-1",
    }
    return [
        (reverse("api:customers"), customer),
        (reverse("api:credit-lines"), credit_line),
        (reverse("api:bills", args=[line.number]), bill),
        (reverse("api:payments"), [payment]),
        (reverse("api:payment-reversals"), [reversal]),
        (reverse("api:contacts"), [contact]),
    ]


def with_nul(body: object, field: str) -> object:
    if isinstance(body, list):
        return [with_nul(body[0], field)]
    return {**body, field: f"{body[field][:2]}{NUL}{body[field][2:]}"}


def named(response) -> set[str]:
    return {error.get("field") or error.get("attr") for error in response.json()["errors"]}


def test_every_text_field_of_every_api_write_refuses_a_nul_by_name(world):
    tried = 0
    for url, body in requests(world):
        row = body[0] if isinstance(body, list) else body
        for field, value in row.items():
            if not isinstance(value, str):
                continue
            response = world["api"].post(url, with_nul(body, field), format="json")
            assert response.status_code == 400, (url, field, response.content[:300])
            assert field in named(response), (url, field, response.json())
            tried += 1
    assert tried >= 30


def test_a_nul_in_a_field_name_or_a_nested_value_is_refused(world):
    api = world["api"]
    for url, body in requests(world):
        row = body[0] if isinstance(body, list) else body
        for bad in ({**row, f"note{NUL}": "x"}, {**row, "extra": {"deep": [f"a{NUL}b"]}}):
            response = api.post(url, [bad] if isinstance(body, list) else bad, format="json")
            assert response.status_code == 400, (url, response.content[:300])


def admin_forms(world) -> list[str]:
    """The add page of every model the superuser may add, and the change page of its first row."""
    urls = []
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        try:
            urls.append(reverse("admin:{}_{}_add".format(*info)))
        except NoReverseMatch:
            continue
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return urls


def nul_in(field: forms.Field, initial: object) -> str:
    """A value of the field with a NUL in it: as a JSON escape for a JSON field, as the character for text."""
    if isinstance(field, forms.JSONField):
        return '{"text": "a\\u0000b"}'
    return f"{initial or 'x'}{NUL}"


def test_every_admin_form_refuses_a_nul_in_its_text_fields(world, client):
    client.force_login(world["root"])
    tried = 0
    for url in admin_forms(world):
        page = client.get(url)
        if page.status_code != 200 or "adminform" not in (page.context or {}):
            continue
        form = page.context["adminform"].form
        data = {form.add_prefix(name): value for name, value in form.initial.items() if isinstance(value, str | int)}
        texts = {
            form.add_prefix(name): nul_in(field, form.initial.get(name))
            for name, field in form.fields.items()
            if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput)
        }
        if not texts:
            continue
        response = client.post(url, data | texts)
        assert response.status_code in (200, 403), (url, response.status_code)
        if response.status_code == 200:
            assert (
                "Null characters are not allowed" in response.content.decode()
                or response.context["adminform"].form.errors
            ), url
        tried += 1
    assert tried >= 10
