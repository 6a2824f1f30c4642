"""Contacts under the collection rules: each rule at its boundary."""

import datetime
import importlib
import zoneinfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from backoffice.kernel.roles import AGENCY, AGENT
from cases.choices import ContactSource
from cases.contacts.services import contact_log
from cases.models import Agency, AgencyMember, Case, ComplianceIncident, Contact, ProhibitedPhraseList, RulePack
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

URUMQI = zoneinfo.ZoneInfo("Asia/Urumqi")  # UTC+6: two hours behind the agents in Asia/Shanghai


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    customer = line.customer
    customer.time_zone = "Asia/Urumqi"
    customer.save()
    run_dunning(datetime.date(2026, 3, 1))
    return Case.objects.with_customer().get(credit_line=line)


def at(hour, minute=0, day=2):
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=URUMQI)


def call(case, agent, when, **extra):
    values = {"channel": "call", "outcome": "connected", "identity_disclosed": True, "phone_number": "13800000000"}
    return contact_log(case=case, actor=agent, occurred_at=when, **(values | extra))


def codes(caught):
    return [error.code for error in caught.value.error_list]


def test_a_call_at_21_59_customer_time_is_allowed_and_at_22_00_refused_with_when_it_becomes_allowed(case, agent):
    call(case, agent, at(21, 59))
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(22, 0))
    assert codes(caught) == ["CONTACT_OUTSIDE_WINDOW"]
    assert "2026-03-03 08:00" in caught.value.messages[0]
    # 22:00 in Urumqi is already midnight for an agent in Shanghai: the customer's clock decides.
    assert at(22, 0).astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).hour == 0


def test_the_fourth_connected_call_of_a_day_is_refused_across_agents_and_an_agency(case, agent):
    other_agent = user_in(AGENT, "agent-b")
    call(case, agent, at(9))
    call(case, other_agent, at(10))
    agency = Agency.objects.create(
        name="外包一号",
        status="approved",
        contract_start=datetime.date(2026, 1, 1),
        contract_end=datetime.date(2026, 12, 31),
    )
    collector = user_in(AGENCY, "agency-c")
    AgencyMember.objects.create(user=collector, agency=agency)
    call(case, collector, at(11))
    with pytest.raises(ValidationError) as caught:
        call(case, other_agent, at(12))
    assert codes(caught) == ["DAILY_CONTACT_CAP"]
    assert "08:00" in caught.value.messages[0]
    call(case, agent, at(9, day=3))


def test_the_seventh_unanswered_attempt_on_a_number_is_refused(case, agent):
    for minute in range(6):
        call(case, agent, at(9, minute), outcome="no_answer")
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(9, 30), outcome="no_answer")
    assert codes(caught) == ["DAILY_ATTEMPT_CAP"]


def test_a_third_party_only_after_the_customer_is_unreachable_and_never_told_the_amount(case, agent):
    third = {"party": "third_party", "phone_number": "13900000000"}
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(9), notes="请转告他回电", **third)
    assert codes(caught) == ["THIRD_PARTY_DISCLOSURE"]
    for minute in range(3):
        call(case, agent, at(10, minute), outcome="no_answer")
    call(case, agent, at(11), notes="请转告他回电", **third)
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(12), notes=f"他欠款 {case.balance_display}，请转告", **third)
    assert codes(caught) == ["THIRD_PARTY_DISCLOSURE"]


def test_do_not_contact_and_identity_disclosure_are_enforced(case, agent):
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(9), identity_disclosed=False)
    assert codes(caught) == ["IDENTITY_NOT_DISCLOSED"]
    customer = case.credit_line.customer
    customer.do_not_contact = True
    customer.save()
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(10))
    assert "DO_NOT_CONTACT" in codes(caught)


@pytest.mark.parametrize(
    ("channel", "consent"),
    [
        ("call", "consents_to_calls"),
        ("sms", "consents_to_sms"),
        ("email", "consents_to_email"),
        ("push", "consents_to_push"),
    ],
)
def test_a_contact_on_a_medium_the_customer_withdrew_consent_to_is_refused_and_the_others_and_their_calls_are_not(
    case, agent, channel, consent
):
    customer = case.credit_line.customer
    setattr(customer, consent, False)
    customer.save()
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(9), channel=channel)
    assert codes(caught) == ["CONSENT_WITHDRAWN"]
    assert Contact.objects.count() == 0
    other = "sms" if channel == "call" else "call"
    call(case, agent, at(10), channel=other)
    # The customer calling us needs no consent; nor does a visit.
    call(case, agent, at(11), channel=channel, direction="inbound")
    call(case, agent, at(12), channel="visit")
    assert Contact.objects.count() == 3


def test_an_imported_call_to_a_customer_who_withdrew_consent_is_stored_and_opens_an_incident(case):
    customer = case.credit_line.customer
    customer.consents_to_calls = False
    customer.save()
    contact = contact_log(
        case=case,
        actor=None,
        channel="call",
        outcome="connected",
        identity_disclosed=True,
        occurred_at=at(9),
        source=ContactSource.IMPORTED,
    )
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert list(ComplianceIncident.objects.values_list("rule", flat=True)) == ["CONSENT_WITHDRAWN"]


def test_a_message_with_a_prohibited_phrase_is_refused(case, agent):
    ProhibitedPhraseList.objects.create(language="zh-hans", version=2, phrases="曝光\n通讯录")
    with pytest.raises(ValidationError) as caught:
        contact_log(
            case=case, actor=agent, channel="sms", outcome="connected", notes="再不还款就曝光你", occurred_at=at(9)
        )
    assert codes(caught) == ["PROHIBITED_CONTENT"]
    assert Contact.objects.count() == 0


def test_an_imported_contact_that_broke_rules_is_stored_and_opens_incidents(case):
    contact = contact_log(
        case=case,
        actor=None,
        channel="call",
        outcome="connected",
        identity_disclosed=False,
        occurred_at=at(23, 30),
        source=ContactSource.IMPORTED,
    )
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert sorted(ComplianceIncident.objects.values_list("rule", flat=True)) == [
        "CONTACT_OUTSIDE_WINDOW",
        "IDENTITY_NOT_DISCLOSED",
    ]


def test_unknown_choices_are_refused_naming_the_field_and_value(case, agent):
    with pytest.raises(ValidationError) as caught:
        contact_log(case=case, actor=agent, channel="fax", outcome="connected", occurred_at=at(9))
    assert "fax" in caught.value.message_dict["channel"][0]


def test_legal_reviewers_cannot_log_contacts(case, legal):

    with pytest.raises(PermissionDenied):
        call(case, legal, at(9))


def test_an_agent_logs_a_call_from_the_case_page_and_sees_the_refusal_outside_the_window(client, case, agent):

    Case.objects.filter(pk=case.pk).update(assignee=agent)
    client.force_login(agent)
    url = reverse("admin:cases_case_log_contact", args=[case.pk])
    data = {
        "channel": "call",
        "direction": "outbound",
        "party": "customer",
        "outcome": "promise",
        "identity_disclosed": "on",
        "notes": "承诺周五还款",
    }
    with time_machine.travel(at(10), tick=False):
        assert client.post(url, data).status_code == 302
    with time_machine.travel(at(23), tick=False):
        refused = client.post(url, data)
    assert refused.status_code == 200
    assert "CONTACT_OUTSIDE_WINDOW" in refused.content.decode()
    assert Contact.objects.filter(case=case).count() == 1


@pytest.fixture
def us_case(case):
    policy = case.credit_line.product.policy
    policy.rule_pack = RulePack.objects.get(code="us-regf")
    policy.save()
    return Case.objects.with_customer().get(pk=case.pk)


def test_usa_an_eighth_call_in_seven_days_is_refused_until_the_first_leaves_the_period(us_case, agent):
    first = at(9, day=2)
    for day in range(2, 9):  # seven unanswered calls, one a day, 2 to 8 March
        call(us_case, agent, at(9, day=day), outcome="no_answer")
    with pytest.raises(ValidationError) as caught:
        call(us_case, agent, at(8, 30, day=9), outcome="no_answer")
    assert codes(caught) == ["ROLLING_CALL_CAP"]
    assert "2026-03-09 09:00" in caught.value.messages[0]
    assert first + datetime.timedelta(days=7) == at(9, day=9)
    call(us_case, agent, at(9, 1, day=9), outcome="no_answer")


def test_usa_no_call_within_seven_days_of_a_conversation(us_case, agent):
    call(us_case, agent, at(10, day=2))
    with pytest.raises(ValidationError) as caught:
        call(us_case, agent, at(10, day=8), outcome="no_answer")
    assert codes(caught) == ["CALL_AFTER_CONVERSATION"]
    call(us_case, agent, at(10, day=9), outcome="no_answer")
    # The customer may still call in.
    contact_log(
        case=us_case,
        actor=agent,
        channel="call",
        direction="inbound",
        outcome="connected",
        identity_disclosed=True,
        occurred_at=at(11, day=3),
    )


def test_the_china_pack_has_no_rolling_rule(case, agent):
    for day in range(2, 10):
        call(case, agent, at(9, day=day), outcome="no_answer")
    assert Contact.objects.filter(case=case).count() == 8


def test_a_number_logged_on_the_case_page_is_stored_in_its_one_form_and_a_bad_one_is_shown_on_its_field(
    client, case, agent
):
    Case.objects.filter(pk=case.pk).update(assignee=agent)
    client.force_login(agent)
    url = reverse("admin:cases_case_log_contact", args=[case.pk])
    data = {"channel": "call", "direction": "outbound", "party": "customer", "outcome": "no_answer"}
    with time_machine.travel(at(10), tick=False):
        assert client.post(url, data | {"phone_number": "+86 (0)10 6234-5678"}).status_code == 302
        refused = client.post(url, data | {"phone_number": "+86 10 6234 5678 ext. 9"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["phone_number"] == [
        "Phone number '+86 10 6234 5678 ext. 9' has an extension; give the number dialled without it."
    ]
    assert list(Contact.objects.values_list("phone_number", flat=True)) == ["01062345678"]


# Thirty digits: longer than the column, which PostgreSQL refuses with a database error.
@pytest.mark.parametrize("number", ["+1 650 253 0000", "1" * 30])
def test_a_contact_logged_by_a_service_call_is_refused_for_a_number_that_is_no_mainland_number(case, agent, number):
    with pytest.raises(ValidationError) as caught:
        call(case, agent, at(9), phone_number=number)
    assert list(caught.value.message_dict) == ["phone_number"]
    assert number in caught.value.message_dict["phone_number"][0]
    assert not Contact.objects.exists()


def test_stored_numbers_written_another_way_are_rewritten_in_the_one_form_and_the_rest_kept(case, agent):
    stored = {"138-0013-8000": "13800138000", "+86 10 6234 5678": "01062345678", "13900139000": "13900139000"}
    stored |= {"12345": "12345", "+852 9123 4567": "+852 9123 4567", "": ""}
    for minute, number in enumerate(stored):
        contact = call(case, agent, at(9, minute), outcome="no_answer", phone_number="")
        Contact.objects.filter(pk=contact.pk).update(phone_number=number)
    migration = importlib.import_module("cases.migrations.0023_contact_phone_numbers_normalized")

    migration.normalize(django_apps, None)

    kept = Contact.objects.order_by("occurred_at").values_list("phone_number", flat=True)
    assert list(kept) == list(stored.values())
