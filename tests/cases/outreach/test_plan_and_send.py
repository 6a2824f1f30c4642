"""The night plans the day's messages set-wise; the sender checks every rule again when each is due."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Bill
from backoffice.kernel.api.scopes import Scope
from cases.choices import ContactChannel, ContactOutcome, MessageStatus
from cases.contacts.services import contact_log
from cases.models import Case, Message
from cases.outreach.services import messages_send_due
from cases.promises.services import promise_record
from tests.factories import BillFactory, CreditLineFactory, overdue_line, product_on

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DHAKA = zoneinfo.ZoneInfo("Asia/Dhaka")  # two hours behind Shanghai, all year
DAY = datetime.date(2026, 3, 1)


def at(hour: int, minute: int = 0, *, day: datetime.date = DAY, zone=SHANGHAI) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


@pytest.fixture
def night(run_dunning):
    def run(day: datetime.date = DAY):
        with time_machine.travel(at(0, 10, day=day), tick=False):
            return run_dunning(day)

    return run


def send_at(moment: datetime.datetime):
    with time_machine.travel(moment, tick=False):
        return messages_send_due()


def first_day_overdue(**customer):
    line = overdue_line(due=DAY - datetime.timedelta(days=1))
    for field, value in customer.items():
        setattr(line.customer, field, value)
    line.customer.save()
    return line


def channels(line, **filters):
    return dict(Message.objects.filter(credit_line=line, **filters).values_list("channel", "status"))


def test_the_night_plans_the_reminder_stage_cadence_inside_the_customers_window(night):
    line = first_day_overdue(email="zhang@example.com")
    run = night()
    planned = Message.objects.filter(credit_line=line)
    assert channels(line) == {"sms": "planned", "push": "planned", "email": "planned"}
    assert run.messages_planned == 3
    for message in planned:
        local = message.due_at.astimezone(SHANGHAI)
        assert (local.date(), message.case) == (DAY, Case.objects.get(credit_line=line))
        assert datetime.time(8, 0) <= local.time() < datetime.time(21, 45)


def test_messages_are_spread_over_the_window_not_sent_all_at_eight(night):
    lines = [first_day_overdue() for _i in range(20)]
    night()
    due = {m.due_at for m in Message.objects.filter(credit_line__in=lines, channel="sms")}
    assert len(due) == 20
    assert max(due) - min(due) > datetime.timedelta(hours=3)


def test_no_email_is_planned_for_a_customer_without_an_address(night):
    line = first_day_overdue(email="")
    night()
    assert channels(line) == {"sms": "planned", "push": "planned"}


def test_a_rerun_of_the_night_plans_nothing_twice(night):
    first_day_overdue()
    night()
    again = night()
    assert (again.messages_planned, Message.objects.count()) == (0, 2)


def test_due_messages_are_sent_once_and_the_console_shows_no_personal_data(night, capsys):
    line = first_day_overdue()
    night()
    first, second = send_at(at(21, 50)), send_at(at(21, 51))
    assert (first.sent, second.handled) == (2, 0)
    assert channels(line) == {"sms": "sent", "push": "sent"}
    assert all(m.provider_message_id for m in Message.objects.all())
    printed = capsys.readouterr().out
    assert "reference=MSG-" in printed
    assert line.customer.name not in printed
    assert line.customer.mobile not in printed


def test_a_customer_who_withdrew_consent_to_sms_gets_the_push_and_a_stopped_sms(night):
    line = first_day_overdue(consents_to_sms=False)
    night()
    sms = Message.objects.get(credit_line=line, channel="sms")
    assert (sms.status, sms.stop_rule) == (MessageStatus.STOPPED, "CONSENT_WITHDRAWN")
    send_at(at(21, 50))
    assert channels(line) == {"sms": "stopped", "push": "sent"}


def test_consent_withdrawn_after_planning_stops_the_message_when_it_is_due(night):
    line = first_day_overdue()
    night()
    line.customer.consents_to_push = False
    line.customer.save()
    send_at(at(21, 50))
    push = Message.objects.get(credit_line=line, channel="push")
    assert (push.status, push.stop_rule) == (MessageStatus.STOPPED, "CONSENT_WITHDRAWN")


def test_do_not_contact_stops_every_message(night):
    line = first_day_overdue(do_not_contact=True)
    night()
    assert set(Message.objects.filter(credit_line=line).values_list("stop_rule", flat=True)) == {"DO_NOT_CONTACT"}
    assert send_at(at(21, 50)).sent == 0


def test_a_vulnerable_customer_gets_no_automated_message_unless_the_policy_says_so(night):
    line = first_day_overdue(vulnerable=True)
    night()
    assert set(Message.objects.filter(credit_line=line).values_list("stop_rule", flat=True)) == {"VULNERABLE_CUSTOMER"}


def test_a_customer_two_hours_behind_shanghai_gets_a_message_at_their_2150(night):
    behind = first_day_overdue(time_zone="Asia/Dhaka")
    local = first_day_overdue()
    night()
    Message.objects.update(due_at=at(21, 50, zone=DHAKA))
    # 21:50 in Dhaka is 23:50 in Shanghai: inside the window for one customer, after it for the other.
    sent = send_at(at(21, 50, zone=DHAKA))
    assert channels(behind) == {"sms": "sent", "push": "sent"}
    assert channels(local) == {"sms": "planned", "push": "planned"}
    waiting = Message.objects.filter(credit_line=local)
    assert {m.due_at for m in waiting} == {at(8, 0, day=DAY + datetime.timedelta(days=1))}
    assert (sent.sent, sent.deferred) == (2, 2)


def test_the_window_closes_at_2200_the_customers_time(night):
    line = first_day_overdue()
    night()
    Message.objects.update(due_at=at(21, 59))
    assert send_at(at(21, 59)).sent == 2
    other = first_day_overdue()
    night()
    Message.objects.filter(credit_line=other).update(due_at=at(22, 0))
    assert send_at(at(22, 0)).deferred == 2
    assert channels(line) == {"sms": "sent", "push": "sent"}


def test_caps_count_agents_contacts_and_messages_together_across_channels(night, agent):
    line = first_day_overdue()
    night()
    case = Case.objects.get(credit_line=line)
    for hour in (9, 10):
        with time_machine.travel(at(hour), tick=False):
            contact_log(
                case=case,
                actor=agent,
                channel=ContactChannel.SMS,
                outcome=ContactOutcome.NO_ANSWER,
                notes="请回电",
                identity_disclosed=True,
            )
    result = send_at(at(21, 50))
    # The daily cap is 3: two contacts by the agent, then one message; the second is stopped.
    assert (result.sent, result.stopped) == (1, 1)
    stopped = Message.objects.get(credit_line=line, status=MessageStatus.STOPPED)
    assert stopped.stop_rule == "DAILY_MESSAGE_CAP"
    assert "3" in stopped.stop_reason


def test_a_payment_at_0900_cancels_the_1000_reminder(night, machine):
    line = first_day_overdue()
    night()
    Message.objects.update(due_at=at(10))
    with time_machine.travel(at(9), tick=False):
        response = machine(Scope.LEDGER_WRITE).post(
            reverse("api:payments"),
            {
                "credit_line": line.number,
                "external_reference": "PAY-0900",
                "amount": "1000.00",
                "channel": "alipay",
                "received_at": at(9).isoformat(),
            },
            format="json",
        )
    assert response.status_code == 201
    assert channels(line) == {"sms": "cancelled", "push": "cancelled"}
    assert send_at(at(10)).sent == 0


def test_a_promise_made_after_planning_cancels_the_reminder_when_it_is_due(night, agent):
    line = first_day_overdue()
    night()
    case = Case.objects.get(credit_line=line)
    with time_machine.travel(at(9), tick=False):
        promise_record(case=case, actor=agent, amount="500.00", due_date=DAY + datetime.timedelta(days=3))
    result = send_at(at(21, 50))
    assert (result.sent, result.cancelled) == (0, 2)
    assert "On hold" in Message.objects.filter(credit_line=line).first().stop_reason


def test_an_english_speaking_customer_gets_the_english_sms(night):
    line = first_day_overdue(preferred_language="en")
    night()
    send_at(at(21, 50))
    sms = Message.objects.get(credit_line=line, channel="sms")
    assert (sms.language, sms.status) == ("en", MessageStatus.SENT)


def test_reminders_before_the_due_date_three_days_before_and_on_the_day(night):
    due_in_three = CreditLineFactory(product=product_on("standard"))
    BillFactory(credit_line=due_in_three, due_date=DAY + datetime.timedelta(days=3), principal_due_fen=50_000)
    paid = CreditLineFactory(product=product_on("standard"))
    BillFactory(
        credit_line=paid,
        due_date=DAY + datetime.timedelta(days=3),
        principal_due_fen=50_000,
        principal_paid_fen=50_000,
        interest_due_fen=0,
        fees_due_fen=0,
    )
    night()
    message = Message.objects.get(credit_line=due_in_three)
    assert (message.kind, message.channel, message.case) == ("pre_due", "sms", None)
    assert message.bill == Bill.objects.get(credit_line=due_in_three)
    assert not Message.objects.filter(credit_line=paid).exists()
    assert send_at(at(21, 50)).sent == 1


def test_entering_agent_collection_sends_its_own_message(night):
    line = overdue_line(due=DAY - datetime.timedelta(days=31))
    night()
    assert Message.objects.filter(credit_line=line, kind="stage_entry", channel="sms", stage="collection").exists()


def test_an_agents_sms_is_refused_after_the_days_automated_messages_reach_the_cap(night, agent):
    line = first_day_overdue(email="li@example.com")
    night()
    assert send_at(at(21, 50)).sent == 3
    case = Case.objects.get(credit_line=line)
    with time_machine.travel(at(21, 55), tick=False), pytest.raises(ValidationError, match="DAILY_MESSAGE_CAP"):
        contact_log(
            case=case,
            actor=agent,
            channel=ContactChannel.SMS,
            outcome=ContactOutcome.CONNECTED,
            notes="请回电",
            identity_disclosed=True,
        )
