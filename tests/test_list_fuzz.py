"""No list of the back office answers a hostile query string with a server error, for any role.

Every registered admin list is asked, as a superuser, a supervisor, a legal reviewer, an agent and an
agency user, for its declared filters with values their fields cannot hold (ids past 64 bits, negative
numbers, dates at the calendar's ends, non-ASCII text, NUL, very long values, repeated parameters),
unknown parameters, and hostile sorting, paging and searching. A refused lookup is a 400, or the
admin's own ``?e=1`` redirect; nothing is a 500.
"""

import datetime
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from backoffice.kernel.admin import DeclaredFiltersOnly
from backoffice.kernel.roles import AGENCY, AGENT, LEGAL, SUPERVISOR
from cases.agencies.services import case_place
from cases.choices import AgencyStatus
from cases.contacts.services import contact_log
from cases.models import Agency, AgencyMember, Case
from cases.settlements.services import proposal_submit
from cases.workload.services import case_assign
from tests.factories import BillFactory, CreditLineFactory, product_on, user_in

pytestmark = pytest.mark.django_db

SUPERUSER = "superuser"
ROLES = [SUPERUSER, SUPERVISOR, LEGAL, AGENT, AGENCY]
EXAMPLES_PER_ROLE = 80
OTHER_PARAMETERS = ["o", "p", "q", "e", "all", "_popup", "_to_field", "zzz", "id__gt", "customer__national_id"]
# Each kind of hostile value is as likely as any other, however many values it has.
hostile_values = st.one_of(
    st.integers(min_value=2**63, max_value=2**80).map(str),
    st.integers(min_value=-(2**80), max_value=-1).map(str),
    st.integers(min_value=0, max_value=10_000).map(str),
    st.sampled_from(["0001-01-01", "0001-01-01 00:00:00", "9999-12-31", "9999-12-31 23:59:59", "2026-02-30"]),
    st.sampled_from(["p" + "9" * 30, "d" + "9" * 30, "p-1", "1,2,3", "1," + "9" * 30, "", " ", "None", "true"]),
    st.sampled_from(["１２", "١٢", "张三", "'; --", "<script>", "%", "0x10", "1e9"]),
    st.sampled_from(["\x00", "a\x00b", "张三\x00"]),
    st.text(max_size=20),
    st.text(min_size=2000, max_size=3000, alphabet="x9-"),
    st.lists(st.integers(min_value=-(2**70), max_value=2**70), min_size=1, max_size=3).map(
        lambda numbers: ".".join(map(str, numbers))
    ),
)


@pytest.fixture
def portfolio(run_dunning):
    """One case worked in-house with a contact and a proposal, one placed with an agency: every list has a row."""
    supervisor = user_in(SUPERVISOR, "supervisor-f")
    agent = user_in(AGENT, "agent-f")
    agency = Agency.objects.create(
        name="华信商务咨询有限公司",
        status=AgencyStatus.APPROVED,
        contract_start=datetime.date(2026, 1, 1),
        contract_end=datetime.date(2027, 1, 1),
        commission_rate="12.50",
    )
    collector = user_in(AGENCY, "agency-f")
    AgencyMember.objects.create(user=collector, agency=agency)
    lines = [CreditLineFactory(product=product_on("standard")) for _ in range(2)]
    for line in lines:
        BillFactory(credit_line=line, principal_due_fen=100_000, interest_due_fen=0, fees_due_fen=0)
    run_dunning(datetime.date(2026, 3, 1))
    ours, theirs = (Case.objects.get(credit_line=line) for line in lines)
    case_assign(case=ours, actor=supervisor, assignee=agent)
    case_place(case=theirs, agency=agency, actor=supervisor)
    contact_log(
        case=ours,
        actor=agent,
        channel="call",
        outcome="connected",
        identity_disclosed=True,
        phone_number="13511112222",
        occurred_at=timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0)),
    )
    proposal_submit(case=ours, actor=agent, kind="write_off", reason="客户失业，无力偿还")
    return {
        SUPERUSER: User.objects.create_superuser("root-f", password="pw-123456"),
        SUPERVISOR: supervisor,
        LEGAL: user_in(LEGAL, "legal-f"),
        AGENT: agent,
        AGENCY: collector,
    }


def lists_for(user: User) -> list[tuple[str, list[str]]]:
    """Every list ``user`` may open, with the query parameters it declares."""
    request = RequestFactory().get("/")
    request.user = user
    found = []
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        if not model_admin.has_view_or_change_permission(request):
            continue
        declared = model_admin.declared_lookups(request) if isinstance(model_admin, DeclaredFiltersOnly) else set()
        names = sorted(declared | {f"{name}__exact" for name in model_admin.list_filter if isinstance(name, str)})
        found.append((reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"), names))
    return found


def query_strings(names: list[str]) -> st.SearchStrategy[str]:
    """Query strings of a list: a few of its parameters (repeated or not), each with a hostile value.

    Mostly the list's declared filters, which reach the database; now and then the admin's own
    parameters and undeclared ones.
    """
    other = st.sampled_from(OTHER_PARAMETERS)
    name = st.one_of(st.sampled_from(names), st.sampled_from(names), other) if names else other
    return st.lists(st.tuples(name, hostile_values), min_size=1, max_size=4).map(urlencode)


@pytest.mark.parametrize("role", ROLES)
def test_no_list_answers_a_hostile_query_string_with_a_server_error(role, portfolio, client, record_property):
    client.force_login(portfolio[role])
    lists = lists_for(portfolio[role])
    tried = []

    @given(data=st.data())
    @examples(
        max_examples=EXAMPLES_PER_ROLE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def asked(data):
        url, names = data.draw(st.sampled_from(lists))
        query = data.draw(query_strings(names))
        tried.append(query)
        response = client.get(f"{url}?{query}")
        assert response.status_code < 500, (url, query)

    asked()
    record_property("query_strings_tried", len(tried))
    print(f"{role}: {len(tried)} query strings over {len(lists)} lists, no server error")
    assert len(tried) >= EXAMPLES_PER_ROLE


@pytest.fixture
def root_client(client, portfolio):
    client.force_login(portfolio[SUPERUSER])
    return client


def test_an_id_filter_past_the_columns_range_gives_an_empty_list(root_client):
    huge = "9" * 30
    for url, query in [
        ("/admin/accounts/bill/", {"credit_line__product": huge}),
        ("/admin/cases/case/", {"assignee": huge}),
        ("/admin/cases/case/", {"product": f"p{huge}"}),
        ("/admin/cases/case/", {"product": f"d{huge}"}),
    ]:
        response = root_client.get(url, query)
        assert response.status_code == 200, (url, query)
        assert list(response.context["cl"].result_list) == [], (url, query)


def test_an_id_filter_within_range_still_filters(root_client):
    product = Case.objects.first().credit_line.product
    response = root_client.get("/admin/cases/case/", {"product": f"p{product.pk}"})
    assert len(response.context["cl"].result_list) == 2


def test_a_date_no_database_can_hold_is_a_bad_lookup(root_client):
    for url, query in [
        ("/admin/cases/contact/", {"occurred_at__gte": "0001-01-01"}),
        ("/admin/accounts/bill/", {"due_date__year": "9" * 30}),
        ("/admin/accounts/bill/", {"due_date__year": "9999", "due_date__month": "12", "due_date__day": "31"}),
        ("/admin/cases/case/", {"stage__exact": "legal\x00"}),
    ]:
        response = root_client.get(url, query)
        assert (response.status_code, response.headers.get("Location")) == (302, f"{url}?e=1"), (url, query)


def test_a_search_with_a_nul_searches_nothing_and_says_why(root_client):
    response = root_client.get("/admin/cases/case/", {"q": "张三\x00"})
    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == ["Null characters are not allowed."]
