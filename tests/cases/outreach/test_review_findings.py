"""What a review found, held down: leases outlasting a slow gateway, receipts too early or misdirected, a bad
template stored by hand, a night killed half-way, STOP from a number in another form, letters to a typed-in address."""

import datetime
import threading
import time
from collections import Counter

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from accounts.models import Customer
from backoffice.kernel.outbound import Accepted, Outgoing
from backoffice.kernel.outbound.receipts import Receipt
from backoffice.night import dunning_run
from cases.choices import MessageStatus
from cases.contacts.models import RulePack
from cases.models import Case, DunningPolicy, Message, MessageTemplate, ReminderRule
from cases.outreach.services import (
    ReceiptTooEarly,
    message_receipts_record,
    messages_send_chunk,
    messages_send_due,
    sms_stop_requests_record,
)
from tests.cases.outreach.test_plan_and_send import DAY, at, first_day_overdue
from tests.factories import overdue_line

HANDED: Counter = Counter()


class SlowGateway:
    """An SMS gateway (the outside world) that takes a quarter of a second to answer each message."""

    name = "slow"

    def send(self, outgoing: Outgoing) -> Accepted:
        time.sleep(0.25)
        HANDED[outgoing.reference] += 1
        return Accepted(provider=self.name, provider_message_id=f"slow-{outgoing.reference}")


@pytest.mark.django_db(transaction=True)
def test_a_chunk_slower_than_its_lease_keeps_renewing_it_so_a_second_worker_sends_nothing_twice(
    on_postgres, shipped_data, run_dunning, settings
):
    settings.OUTBOUND_PROVIDERS = {
        **settings.OUTBOUND_PROVIDERS,
        "sms": f"{__name__}.SlowGateway",
        "push": f"{__name__}.SlowGateway",
    }
    settings.MESSAGE_LEASE_SECONDS = 0.6  # renewed every 0.2 s; the chunk of 6 takes 1.5 s
    for _line in range(3):
        overdue_line(due=datetime.date.today() - datetime.timedelta(days=1))
    run_dunning(datetime.date.today())
    Message.objects.update(due_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1))
    RulePack.objects.update(window_start=datetime.time(0, 0), window_end=datetime.time(23, 59))
    HANDED.clear()
    first = threading.Thread(target=lambda: (messages_send_chunk(limit=100), connection.close()))
    first.start()
    while not Message.objects.filter(status=MessageStatus.SENDING).exists():
        time.sleep(0.01)
    rival_sent = 0
    while first.is_alive():
        rival_sent += messages_send_chunk(limit=100).sent
        time.sleep(0.05)
    first.join()
    assert sorted(HANDED.values()) == [1] * 6
    assert rival_sent == 0
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


@pytest.fixture
def sent_sms(run_dunning):
    line = first_day_overdue()
    with time_machine.travel(at(0, 10), tick=False):
        run_dunning(DAY)
    return line


def receipt(reference: str, provider_id: str = "unknown-biz-id") -> Receipt:
    return Receipt(
        provider_message_id=provider_id,
        reference=reference,
        delivered=True,
        at=at(12),
        error_code="DELIVERED",
        error_message="",
    )


@pytest.mark.django_db
def test_a_receipt_before_the_send_is_recorded_asks_the_provider_to_push_again(sent_sms):
    sms = Message.objects.get(credit_line=sent_sms, channel="sms")
    Message.objects.filter(pk=sms.pk).update(status=MessageStatus.SENDING)
    with pytest.raises(ReceiptTooEarly):
        message_receipts_record(provider="aliyun", receipts=[receipt(sms.reference)])


@pytest.mark.django_db
def test_a_receipt_naming_a_planned_message_or_another_channel_changes_nothing(sent_sms):
    push = Message.objects.get(credit_line=sent_sms, channel="push")
    sms = Message.objects.get(credit_line=sent_sms, channel="sms")
    tally = message_receipts_record(provider="aliyun", receipts=[receipt(push.reference), receipt(sms.reference)])
    assert tally.unknown == 2
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.PLANNED}


@pytest.mark.django_db
@pytest.mark.parametrize("reference", ["MSG-²", "MSG-99999999999999999999999", "MSG-", "MSG-12 ", "msg-1"])
def test_a_receipt_with_a_malformed_reference_is_unknown_never_a_server_error(sent_sms, client, settings, reference):
    settings.SMS_RECEIPT_SECRET = "s" * 40
    body = (
        '[{"phone_number": "13800000000", "send_time": "2026-03-01 12:00:00", "report_time": "2026-03-01 12:00:05",'
        f' "success": true, "err_code": "DELIVERED", "err_msg": "", "biz_id": "x", "out_id": "{reference}"}}]'
    )
    response = client.post(
        reverse("outreach:sms_receipts", args=["s" * 40]), data=body.encode(), content_type="application/json"
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_template_stored_by_hand_that_no_message_can_fill_stops_its_message_and_the_rest_go(sent_sms):
    MessageTemplate.objects.filter(code="overdue", channel="sms", language="zh-hans").update(body="{name:d} 您好")
    with time_machine.travel(at(21, 50), tick=False):
        result = messages_send_due()
    assert (result.sent, result.stopped) == (1, 1)
    sms = Message.objects.get(credit_line=sent_sms, channel="sms")
    assert (sms.status, sms.stop_rule) == (MessageStatus.STOPPED, "TEMPLATE_ERROR")


@pytest.mark.django_db
def test_a_night_killed_before_planning_and_run_again_plans_the_stage_entry_message():
    line = overdue_line(due=DAY - datetime.timedelta(days=31))
    with time_machine.travel(at(0, 10), tick=False):
        dunning_run(as_of=DAY, batch_size=100)
        # As if that run had been killed after its batches, before it planned the day's messages.
        Message.objects.all().delete()
        dunning_run(as_of=DAY, batch_size=100)
    kinds = set(Message.objects.filter(credit_line=line).values_list("kind", "stage"))
    assert ("stage_entry", "collection") in kinds
    assert Case.objects.get(credit_line=line).stage == "collection"


@pytest.mark.django_db
def test_a_reminder_day_beyond_a_year_and_a_month_is_refused():
    policy = DunningPolicy.objects.get(code="standard")
    rule = ReminderRule(policy=policy, kind="pre_due", channel="sms", days="3,99999999", template_code="due-soon")
    with pytest.raises(Exception, match="from 0 to 400"):
        rule.full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["+8613800000001", "8613800000001", "138 0000 0001"])
def test_a_stop_reply_from_the_number_in_another_form_withdraws_the_consent(number):
    line = overdue_line(due=DAY)
    Customer.objects.filter(pk=line.customer_id).update(mobile="13800000001")
    assert sms_stop_requests_record(phone_numbers=[number]) == 1
    assert Customer.objects.get(pk=line.customer_id).consents_to_sms is False
