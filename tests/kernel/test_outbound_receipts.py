"""What Alibaba Cloud SMS pushes back: receipts and replies parsed, the URL's secret checked, stop requests told."""

import json
from datetime import UTC, datetime

import pytest

from backoffice.kernel.outbound import (
    RECEIPT_ANSWER,
    ReceiptMalformed,
    is_stop_request,
    receipt_secret_valid,
    sms_receipts_parse,
    sms_uplinks_parse,
)

SECRET = "Vq3xL0-8b2mN_5zR7tY9wK4cJ6hG1fD0sA2pQ"


def body(*items) -> bytes:
    return json.dumps(list(items), ensure_ascii=False).encode()


def receipt_item(**overrides) -> dict:
    item = {
        "phone_number": "13812345678",
        "send_time": "2026-03-02 09:00:00",
        "report_time": "2026-03-02 09:00:07",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "900619746936498^0",
        "out_id": "M000000042",
    }
    return {**item, **overrides}


def uplink_item(**overrides) -> dict:
    item = {
        "phone_number": "13812345678",
        "send_time": "2026-03-02 21:59:59",
        "content": "退订",
        "sign_name": "示例消费金融",
        "dest_code": "1234",
        "sequence_id": 1234567890,
    }
    return {**item, **overrides}


def test_a_delivered_receipt_names_the_biz_id_our_reference_and_the_beijing_time():
    (receipt,) = sms_receipts_parse(body(receipt_item()))

    assert receipt.provider_message_id == "900619746936498^0"
    assert receipt.reference == "M000000042"
    assert receipt.delivered is True
    assert receipt.at == datetime(2026, 3, 2, 1, 0, 7, tzinfo=UTC)
    assert (receipt.error_code, receipt.error_message) == ("DELIVERED", "用户接收成功")


def test_a_failed_receipt_keeps_the_carriers_code_and_words():
    (receipt,) = sms_receipts_parse(body(receipt_item(success=False, err_code="MK:0001", err_msg="用户停机")))

    assert (receipt.delivered, receipt.error_code, receipt.error_message) == (False, "MK:0001", "用户停机")


def test_one_push_may_carry_many_receipts_and_an_empty_one_none():
    pushed = body(receipt_item(), receipt_item(biz_id="900619746936499^0", out_id="M000000043"))

    assert [r.reference for r in sms_receipts_parse(pushed)] == ["M000000042", "M000000043"]
    assert sms_receipts_parse(b"[]") == []


def test_a_receipt_without_our_reference_still_names_alibabas_id():
    (receipt,) = sms_receipts_parse(body(receipt_item(out_id=None)))

    assert (receipt.provider_message_id, receipt.reference) == ("900619746936498^0", "")


@pytest.mark.parametrize(
    ("pushed", "named"),
    [
        (b"not json", "The body is not JSON"),
        (b"\xff\xfe[]", "not UTF-8"),
        (b'{"biz_id": "1"}', "JSON dict, not an array"),
        (b'["x"]', "Item 0 is a JSON str"),
        (
            body(receipt_item(), receipt_item(report_time="2026-13-02 09:00:00")),
            "Item 1: report_time='2026-13-02 09:00:00'",
        ),
        (body(receipt_item(report_time=None)), "Item 0: report_time=None"),
        (body(receipt_item(success="yes")), "Item 0: success='yes' is not true or false"),
        (body(receipt_item(biz_id="")), "Item 0: biz_id='' is not an identifier"),
        (body(receipt_item(err_code=17)), "Item 0: err_code=17 is not a text"),
    ],
)
def test_a_malformed_receipt_push_is_refused_naming_the_field_and_the_value(pushed, named):
    with pytest.raises(ReceiptMalformed) as refusal:
        sms_receipts_parse(pushed)

    assert named in str(refusal.value)


def test_a_reply_names_the_number_the_text_the_time_and_the_sequence():
    (uplink,) = sms_uplinks_parse(body(uplink_item()))

    assert uplink.phone_number == "13812345678"
    assert uplink.text == "退订"
    assert uplink.at == datetime(2026, 3, 2, 13, 59, 59, tzinfo=UTC)
    assert uplink.provider_sequence_id == "1234567890"


def test_a_reply_in_the_older_compact_time_with_a_string_sequence_is_read_too():
    (uplink,) = sms_uplinks_parse(body(uplink_item(send_time="20260302090000", sequence_id="77")))

    assert (uplink.at, uplink.provider_sequence_id) == (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "77")


@pytest.mark.parametrize(
    ("item", "named"),
    [
        (uplink_item(send_time="yesterday"), "Item 0: send_time='yesterday'"),
        (uplink_item(sequence_id=None), "Item 0: sequence_id=None"),
        (uplink_item(phone_number=""), "Item 0: phone_number"),
        (uplink_item(content=None), "Item 0: content is a NoneType, not a text"),
    ],
)
def test_a_malformed_reply_push_is_refused_naming_the_field(item, named):
    with pytest.raises(ReceiptMalformed) as refusal:
        sms_uplinks_parse(body(item))

    assert named in str(refusal.value)


def test_a_refused_reply_never_repeats_the_customers_number_or_words():
    with pytest.raises(ReceiptMalformed) as refusal:
        sms_uplinks_parse(body(uplink_item(phone_number="13812345678", send_time="soon")))

    assert "13812345678" not in str(refusal.value)
    with pytest.raises(ReceiptMalformed) as refusal:
        sms_uplinks_parse(body(uplink_item(content=["我已经还款了"])))
    assert "还款" not in str(refusal.value)


def test_the_secret_in_the_url_must_be_the_configured_one(settings):
    settings.SMS_RECEIPT_SECRET = SECRET

    assert receipt_secret_valid(SECRET) is True
    assert receipt_secret_valid(SECRET[:-1]) is False
    assert receipt_secret_valid(SECRET + "x") is False
    assert receipt_secret_valid("") is False
    assert receipt_secret_valid("密钥") is False


def test_no_secret_configured_closes_the_push_endpoints(settings):
    settings.SMS_RECEIPT_SECRET = ""

    assert receipt_secret_valid("") is False
    assert receipt_secret_valid(SECRET) is False


def test_the_answer_alibaba_expects_has_a_numeric_code_zero():
    assert RECEIPT_ANSWER == {"code": 0, "msg": "成功"}


@pytest.mark.parametrize(
    "reply",
    [
        "退订",
        "TD",
        "td",
        "T",
        " t ",
        "取消",
        "STOP",
        "Stop.",
        "unsubscribe",
        "UNSUBSCRIBE",
        "ＴＤ",
        "ｓｔｏｐ",
        "退订！",
        "T D",
        "TD 谢谢",
        "STOP please",
        "请帮我退订，谢谢",
        "拒收",
        "R",
        "I want to unsubscribe",
        "Cancel",
        "退订短信",
    ],
)
def test_a_request_to_stop_is_recognised(reply):
    assert is_stop_request(reply) is True


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "  ",
        "我已经还款了",
        "好的",
        "明天还",
        "Thanks",
        "end of month I will pay",
        "Stopped by the bank, paying now",
        "取消还款计划是什么意思",
        "?",
        "TDD",
    ],
)
def test_other_replies_are_not_a_request_to_stop(reply):
    assert is_stop_request(reply) is False
