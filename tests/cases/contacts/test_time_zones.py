"""A customer's time zone is a name the zone database holds; a stored one it does not hold stops contact.

Every input refuses an unknown name (the model's validator: admin forms, the API, the ledger file). A
name met in stored data (written before the check, or by hand in the database) is never replaced by
Beijing time for the contact window: a planned contact is refused with ``TIME_ZONE_UNKNOWN`` until
the customer's zone is corrected, and an imported one is stored with a compliance incident.
"""

import datetime
import logging
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer
from cases.choices import ContactSource
from cases.contacts.rules import WINDOWED, customer_zone, reach_breaches
from cases.contacts.selectors import rule_pack_for
from cases.contacts.services import contact_log
from cases.models import Case, ComplianceIncident, Contact
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TEN_IN_BEIJING = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # inside the window, were it Beijing


@pytest.fixture
def case(run_dunning):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 3, 1))
    # Stored as no input takes it any more: past the model's validator.
    Customer.objects.filter(pk=line.customer_id).update(time_zone="Mars/Olympus")
    return Case.objects.with_customer().get(credit_line=line)


def test_the_model_refuses_a_zone_name_the_database_does_not_hold():
    customer = overdue_line(due=datetime.date(2026, 1, 10)).customer
    customer.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError) as caught:
        customer.full_clean()
    assert "Mars/Olympus" in caught.value.message_dict["time_zone"][0]


def test_a_call_to_a_customer_of_an_unknown_zone_is_refused_naming_the_zone(case, agent):
    with pytest.raises(ValidationError) as caught:
        contact_log(
            case=case,
            actor=agent,
            channel="call",
            outcome="connected",
            identity_disclosed=True,
            phone_number="13800000000",
            occurred_at=TEN_IN_BEIJING,
        )
    assert [error.code for error in caught.value.error_list] == ["TIME_ZONE_UNKNOWN"]
    assert "'Mars/Olympus'" in caught.value.messages[0]
    assert not Contact.objects.exists()


def test_every_channel_that_reaches_the_customer_is_refused_messages_and_e_mailed_letters_too(case):
    customer = case.credit_line.customer
    for channel in WINDOWED:
        found = reach_breaches(pack=rule_pack_for(case), customer=customer, channel=channel, at=TEN_IN_BEIJING)
        assert [breach.code for breach in found] == ["TIME_ZONE_UNKNOWN"], channel


def test_an_imported_contact_of_an_unknown_zone_is_stored_with_an_incident(case):
    contact = contact_log(
        case=case,
        actor=None,
        channel="call",
        outcome="connected",
        identity_disclosed=True,
        occurred_at=TEN_IN_BEIJING,
        source=ContactSource.IMPORTED,
    )
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert list(ComplianceIncident.objects.values_list("rule", flat=True)) == ["TIME_ZONE_UNKNOWN"]


def test_counting_a_customers_day_in_an_unknown_zone_uses_the_business_zone_and_says_so(caplog):
    caplog.set_level(logging.WARNING, logger="cases.contacts.rules")
    assert customer_zone("Mars/Olympus") == timezone.get_default_timezone()
    assert [(r.event, r.time_zone) for r in caplog.records] == [("time_zone_unknown", "Mars/Olympus")]
    assert customer_zone("Asia/Urumqi") == zoneinfo.ZoneInfo("Asia/Urumqi")


def test_the_case_page_shows_the_zone_is_unknown_instead_of_a_time(case, supervisor, client):
    client.force_login(supervisor)
    page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert "unknown time zone &#x27;Mars/Olympus&#x27;" in page
