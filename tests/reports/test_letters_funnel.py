"""The letters funnel on three hand-made legal cases, each figure worked out by hand.

The firm charges 50 yuan a letter. The night of 20 March 2026 takes three lines (due 10 January, DPD 69) to
legal and drafts their lawyer letters. On 21 March the lawyer approves L1 and L3 and rejects L2 ("金额需复核");
L3's customer pays 100 yuan that afternoon. On 22 March L1 goes by registered post, and L3's dispatch is
cancelled by the re-check (a payment after its data was frozen). L1's case then pays 300 yuan on 25 March and
200 on 26 March, reversed on 28 March, and 100 on 25 April, after its 30 days (22 March to 20 April).
"""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from accounts.services import payment_post, payment_reverse
from backoffice.reports.aggregate_letters import letters_aggregate
from backoffice.reports.models_recovery import LetterDay, LetterPaid
from backoffice.reports.tables import Linked, Money, Share
from cases.models import Case
from letters.choices import LetterStatus
from letters.dispatch import letter_dispatch
from letters.models import Letter
from letters.services import letter_approve, letter_reject, letter_render
from tests.factories import law_firm_with_lawyer, overdue_line

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
FIRST, LAST = datetime.date(2026, 3, 20), datetime.date(2026, 4, 27)


@pytest.fixture(autouse=True)
def _in_english():
    """Read the tables' labels in English, whatever language an earlier request left active."""
    with translation.override("en"):
        yield


def at(month: int, day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def pay(line, reference: str, yuan: str, when: datetime.datetime):
    with time_machine.travel(when, tick=False):
        return payment_post(
            credit_line=line, external_reference=reference, amount=yuan, channel="alipay", received_at=when
        )


def nights(first: datetime.date = FIRST, last: datetime.date = LAST) -> None:
    """Run the night's letters step for every night from the day after ``first`` to the day after ``last``."""
    day = first
    while day <= last:
        letters_aggregate(as_of=day + datetime.timedelta(days=1))
        day += datetime.timedelta(days=1)


@pytest.fixture
def letters(run_dunning, legal, supervisor):
    firm = law_firm_with_lawyer(legal)
    firm.cost_per_letter_fen = 5_000
    firm.save()
    lines = [overdue_line(due=datetime.date(2026, 1, 10), principal_fen=200_000) for _n in range(3)]
    for line in lines:
        line.customer.address = "广东省深圳市南山区科技园路 88 号"
        line.customer.save()
    with time_machine.travel(at(3, 20, 0), tick=False):
        run_dunning(FIRST)
    drafted = [Letter.objects.get(case__credit_line=line) for line in lines]
    with time_machine.travel(at(3, 20, 9), tick=False):
        drafted = [letter_render(letter=letter) for letter in drafted]
    one, two, three = drafted
    with time_machine.travel(at(3, 21), tick=False):
        letter_approve(letter=one, actor=legal, seen_sha256=one.pdf_sha256)
        letter_approve(letter=three, actor=legal, seen_sha256=three.pdf_sha256)
        letter_reject(letter=two, actor=legal, reason="金额需复核")
    pay(lines[2], "L3-1", "100.00", at(3, 21, 15))
    with time_machine.travel(at(3, 22), tick=False):
        for letter in (one, three):
            letter_dispatch(letter=letter, actor=legal, channel="post", carrier="EMS", tracking_number="EMS0001")
    pay(lines[0], "L1-1", "300.00", at(3, 25))
    bounced = pay(lines[0], "L1-2", "200.00", at(3, 26))
    with time_machine.travel(at(3, 28), tick=False):
        payment_reverse(
            payment=bounced, external_reference="L1-2-R", reason="bounced", reversed_at=at(3, 28), actor=None
        )
    pay(lines[0], "L1-3", "100.00", at(4, 25))
    nights()
    return {"firm": firm, "letters": [Letter.objects.get(pk=letter.pk) for letter in drafted]}


def test_the_letters_reach_the_steps_the_nights_counted(letters):
    one, two, three = letters["letters"]
    assert [one.status, two.status, three.status] == [LetterStatus.SENT, LetterStatus.REJECTED, LetterStatus.CANCELLED]
    steps = sorted(LetterDay.objects.values_list("day", "step", "letters", "cost_fen", "reason"))
    assert steps == [
        (datetime.date(2026, 3, 20), "drafted", 3, 0, ""),
        (datetime.date(2026, 3, 21), "approved", 2, 0, ""),
        (datetime.date(2026, 3, 21), "rejected", 1, 0, "金额需复核"),
        (datetime.date(2026, 3, 22), "cancelled", 1, 0, three.cancellation_reason),
        (datetime.date(2026, 3, 22), "sent", 1, 5_000, ""),
    ]
    # 300 on the 25th, 200 on the 26th taken back on the 28th; the 100 of 25 April is after the 30 days.
    paid = sorted(LetterPaid.objects.values_list("day", "sent_on", "recovered_fen", "paying"))
    sent_on = datetime.date(2026, 3, 22)
    assert paid == [
        (datetime.date(2026, 3, 25), sent_on, 30_000, 1),
        (datetime.date(2026, 3, 26), sent_on, 20_000, 0),
        (datetime.date(2026, 3, 28), sent_on, -20_000, 0),
    ]


def test_the_funnel_and_the_cost_against_what_was_recovered(letters, built):
    tables, _result = built("letters", **{"from": "2026-03-20", "to": "2026-03-31"})
    funnel = {row[0]: row for row in tables["funnel"].rows}
    assert funnel["Drafted"][1].value == 3
    assert funnel["Approved"][1:3] == [Linked(2, funnel["Approved"][1].url), Share(2, 3)]
    assert funnel["Sent"][3] == Money(5_000)
    paid = funnel["Paid within 30 days of sending"]
    assert paid[1:] == [Linked(1, paid[1].url), Share(1, 1), "", Money(30_000)]
    assert funnel["Rejected"][1].value == 1
    assert funnel["Cancelled"][1].value == 1
    (pair,) = tables["by-firm-template"].rows
    assert pair[2:] == [3, 2, 1, 1, 1, 1, Share(1, 1), Money(5_000), Money(30_000), Share(30_000, 5_000)]
    reasons = {(row[0], row[1]): row[2] for row in tables["reasons"].rows}
    assert reasons == {("Rejected", "金额需复核"): 1, ("Cancelled", letters["letters"][2].cancellation_reason): 1}


def test_a_funnel_step_leads_to_exactly_its_letters(letters, built, client, supervisor):
    tables, _result = built("letters", **{"from": "2026-03-20", "to": "2026-03-31"})
    funnel = {row[0]: row for row in tables["funnel"].rows}
    client.force_login(supervisor)
    one, two, three = letters["letters"]
    expected = {
        "Drafted": {one, two, three},
        "Sent": {one},
        "Paid within 30 days of sending": {one},
        "Rejected": {two},
        "Cancelled": {three},
    }
    for step, wanted in expected.items():
        response = client.get(funnel[step][1].url)
        assert response.status_code == 200, step
        assert set(response.context["cl"].result_list) == wanted, step
    other_product = client.get(
        reverse("admin:letters_letter_changelist"),
        {"funnel_step": "sent", "funnel_from": "2026-03-20", "funnel_to": "2026-03-31", "funnel_product": "999"},
    )
    assert not other_product.context["cl"].result_list


def test_a_rerun_of_the_nights_changes_nothing(letters):
    before = (sorted(LetterDay.objects.values_list("day", "step", "letters")), LetterPaid.objects.count())
    nights(datetime.date(2026, 3, 21), datetime.date(2026, 3, 29))
    assert (sorted(LetterDay.objects.values_list("day", "step", "letters")), LetterPaid.objects.count()) == before


def test_the_firms_cost_per_letter_is_edited_in_its_admin(letters, client, root):
    client.force_login(root)
    firm = letters["firm"]
    page = client.get(reverse("admin:letters_lawfirm_change", args=[firm.pk])).content.decode()
    assert 'name="cost_per_letter_fen"' in page
    assert "50.00" in client.get(reverse("admin:letters_lawfirm_changelist")).content.decode()
    assert Case.objects.filter(stage="legal").count() == 3
