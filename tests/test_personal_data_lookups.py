"""No list gives away a masked ID, mobile or phone number: not by a filter in the URL, a search, a sort, a date
drill-down or a raw-id popup, whatever the path to the number and the lookup, for any role.

Every admin registered for the project's apps is tried, for an agent, an agency user, a legal reviewer and a
supervisor, every one of whom sees the numbers masked; the paths to the numbers are found by walking each
model's relations.
"""

import datetime
import re
import zoneinfo
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer, PersonalDataReveal
from accounts.services import customer_reveal, payment_post
from accounts.validators import national_id_check_character
from backoffice.kernel.admin import ADMIN_PARAMETERS, DeclaredFiltersOnly
from backoffice.kernel.roles import AGENCY, AGENT, LEGAL, SUPERVISOR
from cases.agencies.services import case_place
from cases.choices import AgencyStatus
from cases.contacts.services import contact_log
from cases.models import Agency, AgencyMember, Case, Contact
from cases.promises.services import promise_record
from cases.settlements.services import proposal_submit
from cases.workload.services import case_assign
from letters.models import LetterTemplate
from letters.services import letter_draft
from tests.factories import BillFactory, CreditLineFactory, CustomerFactory, product_on, user_in

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "cases", "letters"}
PERSONAL_NUMBERS = [(Customer, "national_id"), (Customer, "mobile"), (Contact, "phone_number")]
LOOKUPS = [
    "",
    "exact",
    "iexact",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "contains",
    "icontains",
    "regex",
    "iregex",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "range",
    "isnull",
]
LIKELIEST = ["", "startswith", "endswith", "regex", "gt", "in"]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ALL_ROLES = [AGENT, AGENCY, LEGAL, SUPERVISOR]


def an_id_number(first17: str) -> str:
    return first17 + national_id_check_character(first17)


def project_admins():
    return sorted(
        (model_admin for model, model_admin in admin.site._registry.items() if model._meta.app_label in PROJECT_APPS),
        key=lambda model_admin: model_admin.opts.label,
    )


def changelist(model_admin) -> str:
    return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")


def paths_to(model, targets, hops=4, prefix="", seen=()):
    """Every path from ``model`` to each of ``targets`` (model, field), forward and back, no model twice."""
    seen = (*seen, model)
    found = [prefix + field for target, field in targets if model is target]
    if len(seen) > hops:
        return found
    for field in model._meta.get_fields():
        if field.is_relation and field.related_model is not None and field.related_model not in seen:
            found += paths_to(field.related_model, targets, hops, f"{prefix}{field.name}__", seen)
    return found


def value_for(lookup: str, number: str) -> str:
    """A value that, were the lookup allowed, would tell something about ``number`` beyond its mask."""
    return {
        "startswith": number[:10],
        "istartswith": number[:10],
        "endswith": number[-5:],
        "iendswith": number[-5:],
        "contains": number[6:14],
        "icontains": number[6:14],
        "regex": "(",
        "iregex": f"^{number[:8]}.*",
        "gt": number[:9],
        "gte": number[:9],
        "lt": number[:9],
        "lte": number[:9],
        "in": number,
        "range": f"{number[:9]},{number[:9]}9",
        "isnull": "False",
    }.get(lookup, number)


def result_rows(response) -> str:
    """The rows of a list page, without the search their links carry back (what the viewer typed)."""
    match = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', response.content.decode(), re.S)
    return re.sub(r"_changelist_filters=[^\"]*", "", match.group(1)) if match else ""


@pytest.fixture
def world(run_dunning):
    """Two customers with every kind of record behind their cases: one worked in-house, one placed with an agency."""
    supervisor = user_in(SUPERVISOR, "supervisor-w")
    agent = user_in(AGENT, "agent-w")
    agency = Agency.objects.create(
        name="华信商务咨询有限公司",
        status=AgencyStatus.APPROVED,
        contract_start=timezone.localdate() - datetime.timedelta(days=30),
        contract_end=timezone.localdate() + datetime.timedelta(days=30),
        commission_rate="12.50",
    )
    collector = user_in(AGENCY, "agency-w")
    AgencyMember.objects.create(user=collector, agency=agency)
    in_house = CustomerFactory(national_id=an_id_number("35052419960101123"), mobile="13912345678")
    placed = CustomerFactory(national_id=an_id_number("11010519850615432"), mobile="13698765432")
    product = product_on("standard")
    lines = {customer: CreditLineFactory(customer=customer, product=product) for customer in (in_house, placed)}
    for line in lines.values():
        BillFactory(credit_line=line, principal_due_fen=100_000, interest_due_fen=0, fees_due_fen=0)
    CreditLineFactory(customer=in_house, product=product)  # a second line, never in arrears: no case
    run_dunning(datetime.date(2026, 3, 1))
    ours = Case.objects.with_customer().get(credit_line=lines[in_house])
    theirs = Case.objects.with_customer().get(credit_line=lines[placed])
    case_assign(case=ours, actor=supervisor, assignee=agent)
    case_place(case=theirs, agency=agency, actor=supervisor)
    when = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    for case, by, number in ((ours, agent, "13511112222"), (theirs, collector, "13733334444")):
        contact_log(
            case=case,
            actor=by,
            channel="call",
            outcome="connected",
            identity_disclosed=True,
            phone_number=number,
            occurred_at=when,
        )
    payment_post(
        credit_line=lines[in_house],
        external_reference="PAY-W-1",
        amount="10.00",
        channel="alipay",
        received_at=when,
    )
    template = LetterTemplate.objects.get(code="reminder-notice", language="zh-hans", is_active=True)
    letter_draft(case=ours, template=template, actor=agent, render=False, as_of=datetime.date(2026, 3, 2))
    proposal_submit(case=ours, actor=agent, kind="write_off", reason="客户失业，无力偿还")
    promise_record(
        case=ours, actor=agent, amount="100.00", due_date=datetime.date(2026, 3, 9), today=datetime.date(2026, 3, 2)
    )
    customer_reveal(customer=in_house, actor=agent, field="mobile", reason="客户来电，核对号码")
    users = {
        AGENT: agent,
        AGENCY: collector,
        LEGAL: user_in(LEGAL, "legal-w"),
        SUPERVISOR: supervisor,
    }
    own = {AGENT: in_house, AGENCY: placed, LEGAL: in_house, SUPERVISOR: in_house}
    secrets = [
        *Customer.objects.values_list("national_id", flat=True),
        *Customer.objects.values_list("mobile", flat=True),
        *Contact.objects.values_list("phone_number", flat=True),
    ]
    return {"users": users, "own": own, "secrets": secrets}


class Viewer:
    """One role's browser on the admin: every page it gets is checked for server errors and full numbers."""

    def __init__(self, client, user, secrets, *, masked: bool):
        client.force_login(user)
        self.client, self.user, self.secrets, self.masked = client, user, secrets, masked
        self.request = RequestFactory().get("/")
        self.request.user = user

    def may_view(self, model_admin) -> bool:
        return model_admin.has_view_permission(self.request) or model_admin.has_change_permission(self.request)

    def get(self, url, params=None, *, rows_only=False):
        response = self.client.get(url + ("?" + urlencode(params) if params else ""))
        assert response.status_code != 500, (url, params)
        shown = result_rows(response) if rows_only else response.content.decode()
        if self.masked:
            leaked = [number for number in self.secrets if number in shown]
            assert leaked == [], (url, params, leaked)
        return response

    def shown_pks(self, response) -> set[int]:
        return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture(params=ALL_ROLES)
def viewer(request, world, client):
    role = request.param
    return Viewer(client, world["users"][role], world["secrets"], masked=True)


@pytest.fixture(params=ALL_ROLES)
def masked_viewer(request, world, client):
    role = request.param
    viewer = Viewer(client, world["users"][role], world["secrets"], masked=True)
    viewer.customer = world["own"][role]
    return viewer


def rows_of(model_admin, customer, request) -> set[int]:
    """The rows of a list the viewer may see that lead to the customer (by the shortest path to them)."""
    paths = sorted(paths_to(model_admin.model, [(Customer, "pk")], hops=3), key=len)
    if not paths:
        return set()
    visible = model_admin.get_queryset(request)
    return set(visible.filter(**{paths[0]: customer.pk}).values_list("pk", flat=True))


def test_every_list_of_the_project_is_filtered_only_as_its_admin_declares():
    undeclared = [
        type(model_admin).__name__
        for model_admin in project_admins()
        if not isinstance(model_admin, DeclaredFiltersOnly)
    ]
    assert undeclared == []
    assert len(project_admins()) > 20


def test_no_list_can_be_filtered_by_a_personal_number_through_any_path_or_lookup(viewer, world):
    number_of = {"national_id": world["own"][AGENT].national_id, "mobile": world["own"][AGENT].mobile}
    number_of["phone_number"] = Contact.objects.order_by("pk").first().phone_number
    tried = 0
    for model_admin in project_admins():
        url = changelist(model_admin)
        paths = sorted(paths_to(model_admin.model, PERSONAL_NUMBERS), key=len)
        assert paths, model_admin  # every model here leads to a personal number somehow
        if not viewer.may_view(model_admin):
            assert viewer.get(url, {f"{paths[0]}__startswith": "1"}).status_code == 403
            continue
        # Every lookup on the nearest path to the ID number, the likeliest ones on the nearest path to
        # each other number, and the first digits on every other path.
        nearest = {path.rpartition("__")[2]: path for path in reversed(paths)}
        attempts = [
            (path, lookup)
            for field, path in nearest.items()
            for lookup in (LOOKUPS if field == "national_id" else LIKELIEST)
        ]
        attempts += [(path, "startswith") for path in paths if path not in nearest.values()]
        for path, lookup in attempts:
            number = number_of[path.rpartition("__")[2]]
            parameter = f"{path}__{lookup}" if lookup else path
            response = viewer.get(url, {parameter: value_for(lookup, number)})
            assert response.status_code == 400, (model_admin, parameter, response.status_code)
            tried += 1
    assert tried > 50


NUMBER_FILTERS = [
    ("admin:accounts_customer_changelist", "national_id"),
    ("admin:cases_contact_changelist", "phone_number"),
    ("admin:cases_case_changelist", "credit_line__customer__national_id"),
]


def test_a_malformed_or_costly_regex_in_the_url_is_refused_before_it_reaches_the_database(masked_viewer):
    for name, path in NUMBER_FILTERS:
        for pattern in ["(", "^(3|35|350|3505)*(0|1)*$", "[[:digit:]]{18}"]:
            response = masked_viewer.get(reverse(name), {f"{path}__regex": pattern})
            assert response.status_code in (400, 403), (name, pattern)


def test_a_number_cannot_be_rebuilt_by_halving_with_range_lookups(masked_viewer):
    answered = []
    for name, path in NUMBER_FILTERS:
        low, high = 10**17, 10**18 - 1
        for _step in range(4):
            middle = (low + high) // 2
            response = masked_viewer.get(reverse(name), {f"{path}__gt": str(middle)})
            answered.append(response.status_code)
            low, high = (middle, high) if response.context and response.context["cl"].result_list else (low, middle)
    assert set(answered) <= {400, 403}
    assert 400 in answered


def test_declared_filters_date_hierarchies_and_raw_id_popups_still_work(viewer):
    checked = 0
    for model_admin in project_admins():
        if not viewer.may_view(model_admin):
            assert viewer.get(changelist(model_admin), {"_to_field": "id", "_popup": "1"}).status_code == 403
            continue
        url = changelist(model_admin)
        page = viewer.get(url)
        assert page.status_code == 200, model_admin
        cl = page.context["cl"]
        for spec in cl.filter_specs:
            choices = list(spec.choices(cl))
            for choice in choices[:2] + choices[-1:]:  # "All", the first choice, and the last ("None", "Empty")
                assert viewer.get(url + choice["query_string"]).status_code == 200, (model_admin, choice)
                checked += 1
        assert viewer.get(url, {"_to_field": "id", "_popup": "1"}).status_code == 200, model_admin
        assert viewer.get(url, {"_popup": "1", "q": "x", "o": "1", "p": "1"}).status_code == 200, model_admin
        if model_admin.date_hierarchy:
            drill = {f"{model_admin.date_hierarchy}__{part}": value for part, value in (("year", 2026), ("month", 3))}
            assert viewer.get(url, drill).status_code == 200, model_admin
            assert viewer.get(url, {**drill, f"{model_admin.date_hierarchy}__day": 2}).status_code == 200
            assert viewer.get(url, {f"{model_admin.date_hierarchy}__week": 10}).status_code == 400
            assert viewer.get(url, {f"{model_admin.date_hierarchy}__year": "MMXXVI"}).status_code == 302
        for parameter in model_admin.declared_lookups(viewer.request) - ADMIN_PARAMETERS:
            response = viewer.get(url, {parameter: "not-a-value"})  # shown as is, or back with "?e=1"
            assert response.status_code in (200, 302), (model_admin, parameter, response.status_code)
    assert checked >= 10


def test_a_raw_id_popup_cannot_return_a_personal_number_as_its_value(viewer):
    for url, to_field in [
        (reverse("admin:accounts_customer_changelist"), "national_id"),
        (reverse("admin:accounts_customer_changelist"), "mobile"),
        (reverse("admin:cases_contact_changelist"), "phone_number"),
    ]:
        assert viewer.get(url, {"_to_field": to_field, "_popup": "1"}).status_code in (400, 403)


def test_agency_users_cannot_filter_cases_by_the_lenders_staff_or_agencies(world, client):
    viewer = Viewer(client, world["users"][AGENCY], world["secrets"], masked=True)
    url = reverse("admin:cases_case_changelist")
    assert viewer.get(url, {"stage__exact": "collection"}).status_code == 200
    assert viewer.get(url, {"assignee__id__exact": world["users"][AGENT].pk}).status_code == 400
    assert viewer.get(url, {"agency__id__exact": "1"}).status_code == 400


def test_sorting_any_list_by_any_column_shows_no_full_number(viewer):
    for model_admin in project_admins():
        if viewer.may_view(model_admin):
            for index in range(len(model_admin.get_list_display(viewer.request))):
                assert viewer.get(changelist(model_admin), {"o": f"-{index}.0"}).status_code == 200


def partial_terms(customer):
    """Parts of the customer's numbers that the mask hides, or that pin hidden digits down."""
    national_id, mobile = customer.national_id, customer.mobile
    wrong_check = national_id[:17] + ("0" if national_id[17] != "0" else "1")
    return [
        national_id[-5:],
        national_id[-3:],
        national_id[-10:],
        national_id[:10],
        national_id[:17],
        national_id[6:14],
        wrong_check,
        mobile[-5:],
        mobile[-3:],
        mobile[:7],
        mobile[:10],
        mobile[1:],
    ]


def test_a_masked_viewer_finds_rows_by_the_last_four_characters_but_not_by_any_other_part(masked_viewer):
    customer = masked_viewer.customer
    found_by_tail = set()
    for model_admin in project_admins():
        if not masked_viewer.may_view(model_admin) or not model_admin.get_search_fields(masked_viewer.request):
            continue
        theirs = rows_of(model_admin, customer, masked_viewer.request)
        url = changelist(model_admin)
        for term in partial_terms(customer):
            shown = masked_viewer.shown_pks(masked_viewer.get(url, {"q": term}))
            assert not shown & theirs, (model_admin, term)
        for tail, field in ((customer.national_id[-4:], "national_id"), (customer.mobile[-4:], "mobile")):
            shown = masked_viewer.shown_pks(masked_viewer.get(url, {"q": tail}))
            if any(path.endswith(field) for path in getattr(model_admin, "masked_search", {})):
                assert theirs, model_admin
                assert theirs <= shown, (model_admin, tail)
                found_by_tail.add((type(model_admin).__name__, field))
    assert PersonalDataReveal.objects.exclude(reason="客户来电，核对号码").count() == 0
    expected = {("CaseAdmin", "national_id"), ("CaseAdmin", "mobile")}
    assert expected <= found_by_tail


def test_a_search_by_the_whole_number_shows_only_its_rows_and_is_recorded_as_a_reveal(masked_viewer):
    customer, user = masked_viewer.customer, masked_viewer.user
    searched = 0
    for model_admin in project_admins():
        if not masked_viewer.may_view(model_admin) or not model_admin.get_search_fields(masked_viewer.request):
            continue
        theirs = rows_of(model_admin, customer, masked_viewer.request)
        url = changelist(model_admin)
        for whole, field in (
            (customer.national_id, "national_id"),
            (customer.national_id.lower(), "national_id"),
            (customer.mobile, "mobile"),
        ):
            before = PersonalDataReveal.objects.filter(revealed_by=user).count()
            response = masked_viewer.get(url, {"q": f" {whole} "}, rows_only=True)
            shown = masked_viewer.shown_pks(response)
            recorded = list(PersonalDataReveal.objects.filter(revealed_by=user).order_by("pk")[before:])
            if any(path.endswith(field) for path in getattr(model_admin, "masked_search", {})):
                assert shown, (model_admin, field)
                assert shown <= theirs, (model_admin, field)
                assert [(r.customer, r.field, r.reason) for r in recorded] == [
                    (
                        customer,
                        field,
                        f"Searched by the full {'national ID number' if field == 'national_id' else 'mobile'}.",
                    )
                ]
                searched += 1
            else:
                assert not shown & theirs, (model_admin, field)
                assert recorded == []
    assert searched >= 3  # the case list by either number (and, for agents, customers and credit lines)


def test_a_whole_number_finds_nothing_for_a_viewer_without_the_reveal_permission(world, client):
    reader = User.objects.create_user("reader", password="pw-123456", is_staff=True)
    reader.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["accounts", "cases"],
            codename__in=["view_customer", "view_case", "view_all_cases"],
        )
    )
    viewer = Viewer(client, reader, world["secrets"], masked=True)
    customer = world["own"][AGENT]
    for url in (reverse("admin:accounts_customer_changelist"), reverse("admin:cases_case_changelist")):
        assert viewer.shown_pks(viewer.get(url, {"q": customer.national_id}, rows_only=True)) == set()
        assert viewer.shown_pks(viewer.get(url, {"q": customer.mobile[-4:]}))
    assert not PersonalDataReveal.objects.filter(revealed_by=reader).exists()


@pytest.mark.parametrize("role", [LEGAL, SUPERVISOR])
def test_legal_reviewers_and_supervisors_see_numbers_masked_and_find_by_the_whole_number_on_record(world, client, role):
    viewer = Viewer(client, world["users"][role], world["secrets"], masked=True)
    customer = world["own"][AGENT]
    ours = Case.objects.get(customer=customer)
    cases = reverse("admin:cases_case_changelist")
    assert ours.pk not in viewer.shown_pks(viewer.get(cases, {"q": customer.national_id[-6:]}))
    assert not PersonalDataReveal.objects.filter(revealed_by=viewer.user).exists()
    for term in (customer.national_id[-4:], customer.mobile[-4:]):
        assert ours.pk in viewer.shown_pks(viewer.get(cases, {"q": term})), term
    assert not PersonalDataReveal.objects.filter(revealed_by=viewer.user).exists()
    for term in (customer.national_id, customer.mobile):
        assert viewer.shown_pks(viewer.get(cases, {"q": term}, rows_only=True)) == {ours.pk}, term
    assert sorted(PersonalDataReveal.objects.filter(revealed_by=viewer.user).values_list("field", flat=True)) == [
        "mobile",
        "national_id",
    ]
    viewer.get(reverse("admin:cases_case_change", args=[ours.pk]))  # the case page: masked (``get`` checks)
    viewer.get(reverse("admin:accounts_customer_change", args=[customer.pk]))


def test_a_superuser_sees_numbers_masked_and_no_customer_history(world, client):
    root = User.objects.create_superuser("root-w", password="pw-123456")
    viewer = Viewer(client, root, world["secrets"], masked=True)
    customer = world["own"][AGENT]
    viewer.get(reverse("admin:accounts_customer_changelist"))
    viewer.get(reverse("admin:accounts_customer_change", args=[customer.pk]))
    viewer.get(reverse("admin:cases_case_change", args=[Case.objects.get(customer=customer).pk]))
    assert viewer.get(reverse("admin:accounts_customer_history", args=[customer.pk])).status_code == 403
