"""SMS through the faked Alibaba Cloud API, its delivery receipts and the customers' replies pushed back to us."""

import datetime
import json
import urllib.error

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Customer
from backoffice.night import dunning_run
from cases.choices import MessageStatus
from cases.models import Message
from cases.outreach.services import messages_send_due
from tests.cases.outreach.test_plan_and_send import DAY, at, first_day_overdue

SECRET = "r" * 40


@pytest.fixture
def sms_sent(aliyun, settings, run_dunning, shipped_data):
    """One overdue customer whose first-day SMS went out through the fake; the fake holds what it got."""
    settings.SMS_RECEIPT_SECRET = SECRET
    line = first_day_overdue()
    with time_machine.travel(at(0, 10), tick=False):
        run_dunning(DAY)
    with time_machine.travel(at(21, 50), tick=False):
        messages_send_due()
    return line, Message.objects.get(credit_line=line, channel="sms")


def receipts_url(live_server, secret=SECRET):
    return live_server.url + reverse("outreach:sms_receipts", args=[secret])


def replies_url(live_server, secret=SECRET):
    return live_server.url + reverse("outreach:sms_replies", args=[secret])


def test_the_sms_goes_to_alibaba_as_its_approved_template_with_our_reference(sms_sent, aliyun):
    line, sms = sms_sent
    (request,) = aliyun.received
    assert request["TemplateCode"] == "SMS_OVERDUE_ZH"
    assert request["OutId"] == sms.reference
    assert request["PhoneNumbers"] == line.customer.mobile
    assert json.loads(request["TemplateParam"])["days_past_due"] == "1"
    assert (sms.status, sms.provider, sms.provider_message_id) == (MessageStatus.SENT, "aliyun", request["_BizId"])


def test_a_delivery_receipt_pushed_back_marks_the_sms_delivered_once(sms_sent, aliyun, live_server):
    _line, sms = sms_sent
    receipts = aliyun.receipts_for_received()
    status, answer = aliyun.push_receipts(receipts_url(live_server), receipts)
    assert (status, json.loads(answer)) == (200, {"code": 0, "msg": "成功"})
    sms.refresh_from_db()
    assert sms.status == MessageStatus.DELIVERED
    assert sms.delivered_at is not None
    delivered_at = sms.delivered_at
    assert aliyun.push_receipts(receipts_url(live_server), receipts)[0] == 200
    sms.refresh_from_db()
    assert (sms.status, sms.delivered_at) == (MessageStatus.DELIVERED, delivered_at)


def test_a_failed_receipt_keeps_the_carriers_error(sms_sent, aliyun, live_server):
    _line, sms = sms_sent
    aliyun.push_receipts(receipts_url(live_server), aliyun.receipts_for_received(success=False, err_code="MK:0001"))
    sms.refresh_from_db()
    assert sms.status == MessageStatus.FAILED
    assert sms.last_error.startswith("MK:0001")


def test_a_push_with_the_wrong_secret_is_not_found_and_changes_nothing(sms_sent, aliyun, live_server):
    _line, sms = sms_sent
    with pytest.raises(urllib.error.HTTPError) as refused:
        aliyun.push_receipts(receipts_url(live_server, "w" * 40), aliyun.receipts_for_received())
    assert refused.value.code == 404
    sms.refresh_from_db()
    assert sms.status == MessageStatus.SENT


def test_a_malformed_push_is_refused_naming_the_field(sms_sent, client):
    response = client.post(
        reverse("outreach:sms_receipts", args=[SECRET]), data=b'[{"biz_id": 5}]', content_type="application/json"
    )
    assert response.status_code == 400
    assert "success" in response.json()["msg"] or "biz_id" in response.json()["msg"]


def test_a_reply_asking_to_stop_withdraws_consent_to_sms_and_stops_the_next_one(sms_sent, aliyun, live_server):
    line, _sms = sms_sent
    with time_machine.travel(at(0, 10, day=DAY + datetime.timedelta(days=2)), tick=False):
        dunning_run(as_of=DAY + datetime.timedelta(days=2), batch_size=100)
    planned = Message.objects.get(credit_line=line, channel="sms", planned_for=DAY + datetime.timedelta(days=2))
    assert planned.status == MessageStatus.PLANNED
    status, _answer = aliyun.push_uplink(replies_url(live_server), phone_number=line.customer.mobile, content="退订")
    assert status == 200
    customer = Customer.objects.get(pk=line.customer_id)
    assert customer.consents_to_sms is False
    assert customer.history.first().history_change_reason
    planned.refresh_from_db()
    assert (planned.status, planned.stop_rule) == (MessageStatus.STOPPED, "CONSENT_WITHDRAWN")


def test_a_reply_that_is_not_a_stop_request_changes_no_consent(sms_sent, aliyun, live_server):
    line, _sms = sms_sent
    aliyun.push_uplink(replies_url(live_server), phone_number=line.customer.mobile, content="我明天还款")
    assert Customer.objects.get(pk=line.customer_id).consents_to_sms is True


def test_alibaba_busy_is_tried_again_later_and_an_illegal_number_fails_for_good(
    aliyun, settings, run_dunning, shipped_data
):
    first, second = first_day_overdue(), first_day_overdue()
    with time_machine.travel(at(0, 10), tick=False):
        run_dunning(DAY)
    Message.objects.filter(channel="push").delete()
    Message.objects.filter(credit_line=second).update(due_at=at(21, 0))
    Message.objects.filter(credit_line=first).update(due_at=at(20, 0))
    aliyun.code = "isv.BUSINESS_LIMIT_CONTROL"
    with time_machine.travel(at(20, 30), tick=False):
        messages_send_due()
    busy = Message.objects.get(credit_line=first)
    assert (busy.status, busy.attempts) == (MessageStatus.PLANNED, 1)
    assert busy.due_at > at(20, 30)
    assert "BUSINESS_LIMIT_CONTROL" in busy.last_error
    aliyun.code = "isv.MOBILE_NUMBER_ILLEGAL"
    with time_machine.travel(at(21, 30), tick=False):
        messages_send_due()
    assert Message.objects.get(credit_line=second).status == MessageStatus.FAILED
    assert Message.objects.get(credit_line=first).status == MessageStatus.FAILED


def test_an_app_push_reaches_the_lenders_push_service_signed_in_the_customers_language(
    push_service, run_dunning, shipped_data
):
    line = first_day_overdue(preferred_language="en")
    with time_machine.travel(at(0, 10), tick=False):
        run_dunning(DAY)
    with time_machine.travel(at(21, 50), tick=False):
        messages_send_due()
    (push,) = push_service.received
    assert push["recipient"] == line.number
    assert (push["language"], push["title"]) == ("en", "Overdue reminder")
    assert "days past due: 1" in push["body"]
    sent = Message.objects.get(credit_line=line, channel="push")
    assert (sent.status, sent.provider, push["id"]) == (MessageStatus.SENT, "push", sent.reference)


def test_an_email_reminder_reaches_a_real_mail_server_in_the_customers_language(smtp_server, run_dunning):
    line = first_day_overdue(preferred_language="en", email="wang@example.com")
    with time_machine.travel(at(0, 10), tick=False):
        run_dunning(DAY)
    with time_machine.travel(at(21, 50), tick=False):
        messages_send_due()
    (mail,) = smtp_server.received
    assert mail["To"] == "wang@example.com"
    assert mail["Subject"].startswith("Overdue payment reminder: contract ")
    assert "days past due: 1" in mail.get_body(("plain",)).get_content()
    sent = Message.objects.get(credit_line=line, channel="email")
    assert (sent.status, sent.provider_message_id) == (MessageStatus.SENT, mail["Message-ID"])
    assert sent.reference == mail["X-Reference"]


def test_a_mail_server_refusing_the_recipient_for_good_bounces_the_reminder(smtp_server, run_dunning):
    line = first_day_overdue(email="gone@example.com")
    with time_machine.travel(at(0, 10), tick=False):
        run_dunning(DAY)
    smtp_server.answers.append("550 5.1.1 No such user")
    with time_machine.travel(at(21, 50), tick=False):
        messages_send_due()
    bounced = Message.objects.get(credit_line=line, channel="email")
    assert bounced.status == MessageStatus.BOUNCED
    assert "550" in bounced.last_error
