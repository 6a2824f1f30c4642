import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import PersonalDataReveal
from accounts.services import customer_reveal
from cases.models import Case
from tests.factories import overdue_line

pytestmark = pytest.mark.django_db


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


def test_a_role_without_the_reveal_permission_is_refused(case, legal):
    with pytest.raises(PermissionDenied):
        customer_reveal(customer=case.credit_line.customer, actor=legal, field="mobile", reason="想看看号码")
    assert PersonalDataReveal.objects.count() == 0
