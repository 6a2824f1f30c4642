"""Revealing a full number: masked for every role until then, a reason and an audit row for each reveal, and an
alert when one person sees more of them in a day than the setting allows."""

import datetime
import logging
import re
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from accounts.models import PersonalDataReveal
from accounts.services import customer_reveal
from backoffice.kernel.roles import AGENT, LEGAL, SUPERVISOR
from cases.models import Case
from tests.factories import overdue_line, user_in

pytestmark = pytest.mark.django_db

MORNING = datetime.datetime(2026, 2, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def case(run_dunning, agent):
    line = overdue_line(due=datetime.date(2026, 1, 10))
    run_dunning(datetime.date(2026, 2, 1))
    Case.objects.filter(credit_line=line).update(assignee=agent)
    return Case.objects.with_customer().get(credit_line=line)


def test_an_agent_sees_the_mobile_masked_and_reveals_it_with_a_reason_leaving_an_audit_row(client, case, agent):
    customer = case.credit_line.customer
    client.force_login(agent)
    page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert customer.masked_mobile in page
    assert customer.mobile not in page
    url = reverse("admin:cases_case_reveal", args=[case.pk, "mobile"])
    shown = client.post(url, {"reason": "客户要求回拨，需核对号码"}).content.decode()
    assert customer.mobile in shown
    reveal = PersonalDataReveal.objects.get()
    assert (reveal.customer, reveal.field, reveal.revealed_by, reveal.reason) == (
        customer,
        "mobile",
        agent,
        "客户要求回拨，需核对号码",
    )


def test_a_reveal_without_a_reason_shows_nothing_and_records_nothing(client, case, agent):
    client.force_login(agent)
    url = reverse("admin:cases_case_reveal", args=[case.pk, "national_id"])
    page = client.post(url, {"reason": "x"}).content.decode()
    assert case.credit_line.customer.national_id not in page
    assert PersonalDataReveal.objects.count() == 0
    with pytest.raises(ValidationError):
        customer_reveal(customer=case.credit_line.customer, actor=agent, field="national_id", reason="")


def test_a_person_without_the_reveal_permission_is_refused(case):
    reader = User.objects.create_user("reader-t", password="pw-123456", is_staff=True)
    reader.user_permissions.set(Permission.objects.filter(codename__in=["view_case", "view_all_cases"]))
    with pytest.raises(PermissionDenied):
        customer_reveal(customer=case.credit_line.customer, actor=reader, field="mobile", reason="想看看号码")
    assert PersonalDataReveal.objects.count() == 0


@pytest.mark.parametrize("role", [AGENT, LEGAL, SUPERVISOR])
def test_every_role_sees_the_case_page_masked_and_reveals_only_with_a_reason_on_record(client, case, role):
    user = user_in(role, f"revealer-{role[:5].lower()}")
    Case.objects.filter(pk=case.pk).update(assignee=user)  # the agent's own case; the others see every case
    customer = case.credit_line.customer
    client.force_login(user)
    page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert customer.masked_national_id in page
    assert customer.national_id not in page
    assert customer.mobile not in page
    url = reverse("admin:cases_case_reveal", args=[case.pk, "national_id"])
    assert customer.national_id not in client.get(url).content.decode()
    shown = client.post(url, {"reason": "法院文书核对身份"}).content.decode()
    assert customer.national_id in shown
    assert list(PersonalDataReveal.objects.values_list("revealed_by", "field", "reason")) == [
        (user.pk, "national_id", "法院文书核对身份")
    ]


def reveal_events(caplog) -> list[dict]:
    return [
        {"user_id": record.user_id, "count": record.count, "limit": record.limit}
        for record in caplog.records
        if getattr(record, "event", None) == "reveals_over_limit"
    ]


@override_settings(REVEAL_ALERT_PER_DAY=2, ADMINS=[("security", "security@example.com")])
def test_the_reveal_that_passes_the_days_limit_alerts_once_and_the_dashboard_names_who(
    client, case, agent, supervisor, caplog, mailoutbox, django_capture_on_commit_callbacks
):
    customer = case.credit_line.customer
    caplog.set_level(logging.INFO, logger="backoffice.security")
    with time_machine.travel(MORNING, tick=False):
        for field in ("mobile", "national_id"):  # two: at the limit, not past it
            customer_reveal(customer=customer, actor=agent, field=field, reason="客户来电，核对身份")
        assert reveal_events(caplog) == []
        client.force_login(agent)
        with django_capture_on_commit_callbacks(execute=True):
            # The third, a search by the whole mobile on the case list, takes the day's count past 2.
            client.get(reverse("admin:cases_case_changelist"), {"q": customer.mobile})
        assert reveal_events(caplog) == [{"user_id": agent.pk, "count": 3, "limit": 2}]
        assert [mail.subject for mail in mailoutbox] == ["[Django] Security: reveals over limit"]
        assert customer.mobile not in mailoutbox[0].body
        assert customer.name not in mailoutbox[0].body
        customer_reveal(customer=customer, actor=agent, field="mobile", reason="再次核对号码")
        assert len(reveal_events(caplog)) == 1  # once a day, not once a reveal
        customer_reveal(customer=customer, actor=supervisor, field="mobile", reason="复核坐席的查看记录")
        client.force_login(supervisor)
        page = client.get(reverse("dashboard")).content.decode()
    classes, card = re.search(
        r'<section class="([^"]*)" id="card-reveals-over-limit">(.*?)</section>', page, re.S
    ).groups()
    assert "past-threshold" in classes
    assert re.search(
        rf"<th[^>]*>{agent.username}</th><td[^>]*><a href=\"[^\"]*revealed_by__id__exact={agent.pk}\">4</a>", card
    )
    assert supervisor.username not in card  # one reveal: within the limit
    assert customer.mobile not in page


@override_settings(REVEAL_ALERT_PER_DAY=2)
def test_yesterdays_reveals_do_not_count_towards_todays_limit(case, agent, caplog):
    customer = case.credit_line.customer
    caplog.set_level(logging.INFO, logger="backoffice.security")
    with time_machine.travel(MORNING - datetime.timedelta(hours=10), tick=False):  # 23:00 the evening before
        for _ in range(2):
            customer_reveal(customer=customer, actor=agent, field="mobile", reason="客户来电，核对身份")
    with time_machine.travel(MORNING, tick=False):
        customer_reveal(customer=customer, actor=agent, field="mobile", reason="客户来电，核对身份")
    assert reveal_events(caplog) == []
