"""SMS through Alibaba Cloud: the signature against the documented examples, and SendSms against a fake of it."""

import json
import socket

import pytest

from backoffice.kernel.outbound import Outgoing, SendFailed, send, sms_receipts_parse
from backoffice.kernel.outbound.aliyun import AliyunSmsProvider, canonical_query, rpc_signature, string_to_sign
from tests.kernel.aliyun_fake import PushCatcher

# The worked example of the SMS documentation's signature chapter (a GET, secret "testSecret").
SMS_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
SMS_EXAMPLE_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001"
    "%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD"
    "%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0"
    "%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D"
    "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)
# The worked example of the RPC signature chapter (DescribeRegions, a GET, secret "testsecret").
RPC_EXAMPLE = {
    "Timestamp": "2016-02-23T12:46:24Z",
    "Format": "XML",
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "Version": "2014-05-26",
    "SignatureVersion": "1.0",
}


def test_the_string_to_sign_is_the_documented_one_for_the_sms_example():
    assert string_to_sign("GET", SMS_EXAMPLE) == SMS_EXAMPLE_STRING_TO_SIGN


def test_the_signature_is_the_documented_one_for_the_sms_example():
    assert rpc_signature(secret="testSecret", method="GET", params=SMS_EXAMPLE) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_the_signature_is_the_documented_one_for_the_rpc_example():
    assert rpc_signature(secret="testsecret", method="GET", params=RPC_EXAMPLE) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_the_signature_covers_the_method_so_a_post_is_signed_as_a_post():
    assert rpc_signature(secret="testsecret", method="POST", params=RPC_EXAMPLE) == "MxbnVAM4w6sft9xjVpe/GCKueuk="


def test_the_canonical_query_leaves_the_signature_out_and_encodes_spaces_and_stars_as_percent_codes():
    assert canonical_query({"b": "x y*", "a": "~1", "Signature": "ignored"}) == "a=~1&b=x%20y%2A"


def reminder(**overrides) -> Outgoing:
    fields = {
        "channel": "sms",
        "reference": "M000000042",
        "to": "13812345678",
        "language": "zh-hans",
        "text": "【示例消费金融】张三您好，您的账单 1,234.50 元已逾期 3 天，请尽快还款。",
        "template_code": "SMS_300000001",
        "params": {"name": "张三", "amount": "1,234.50", "days": "3"},
    }
    return Outgoing(**{**fields, **overrides})


def test_an_accepted_sms_returns_alibabas_biz_id(aliyun):
    accepted = send(reminder())

    assert accepted.provider == "aliyun"
    assert accepted.provider_message_id == aliyun.received[0]["_BizId"]


def test_the_request_carries_the_template_its_params_and_our_reference_but_never_the_text(aliyun):
    send(reminder())

    (params,) = aliyun.received
    assert (params["Action"], params["Version"], params["Format"]) == ("SendSms", "2017-05-25", "JSON")
    assert params["PhoneNumbers"] == "13812345678"
    assert params["SignName"] == "示例消费金融"
    assert params["TemplateCode"] == "SMS_300000001"
    assert json.loads(params["TemplateParam"]) == {"name": "张三", "amount": "1,234.50", "days": "3"}
    assert params["OutId"] == "M000000042"
    assert all("逾期" not in value for name, value in params.items() if name != "TemplateParam")
    assert aliyun.paths == ["/"]  # the parameters travel in the body, not the URL


def test_every_request_gets_a_fresh_nonce(aliyun):
    send(reminder())
    send(reminder(reference="M000000043"))

    assert len({params["SignatureNonce"] for params in aliyun.received}) == 2
    assert aliyun.refused == []


def test_a_wrong_secret_is_refused_by_alibaba_with_signature_does_not_match(aliyun, settings):
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "not-the-secret"

    with pytest.raises(SendFailed) as failure:
        send(reminder())

    assert failure.value.code == "SignatureDoesNotMatch"
    assert failure.value.permanent is False  # the message is fine; the key must be fixed, then it goes
    assert len(aliyun.refused) == 1
    assert aliyun.received == []


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", 200),
        ("isv.DAY_LIMIT_CONTROL", 200),
        ("Throttling.User", 400),
        ("isp.SYSTEM_ERROR", 500),
    ],
)
def test_flow_control_and_system_errors_are_tried_again_later(aliyun, code, status):
    aliyun.code, aliyun.status = code, status

    with pytest.raises(SendFailed) as failure:
        send(reminder())

    assert (failure.value.code, failure.value.permanent) == (code, False)
    assert code in str(failure.value)


@pytest.mark.parametrize(
    "code",
    [
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
    ],
)
def test_an_illegal_number_template_or_sign_is_refused_for_good(aliyun, code):
    aliyun.code = code

    with pytest.raises(SendFailed) as failure:
        send(reminder())

    assert (failure.value.code, failure.value.permanent) == (code, True)


def test_a_gateway_error_page_is_a_temporary_failure(aliyun):
    aliyun.status, aliyun.raw_answer = 503, b"<html><body>503 Service Temporarily Unavailable</body></html>"

    with pytest.raises(SendFailed) as failure:
        send(reminder())

    assert (failure.value.code, failure.value.permanent) == ("http_503", False)


def test_an_unreachable_endpoint_is_a_temporary_failure_that_sent_nothing(aliyun, settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        settings.ALIYUN_SMS_ENDPOINT = f"http://127.0.0.1:{unused.getsockname()[1]}/"

    with pytest.raises(SendFailed) as failure:
        send(reminder())

    assert (failure.value.code, failure.value.permanent) == ("connection", False)


def test_an_endpoint_that_never_answers_times_out_as_a_temporary_failure(aliyun, settings):
    settings.ALIYUN_SMS_READ_TIMEOUT = 1
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection, never answers
        settings.ALIYUN_SMS_ENDPOINT = f"http://127.0.0.1:{silent.getsockname()[1]}/"

        with pytest.raises(SendFailed) as failure:
            send(reminder())

    assert (failure.value.code, failure.value.permanent) == ("timeout", False)


def test_an_sms_without_an_approved_template_is_never_sent(aliyun):
    with pytest.raises(SendFailed) as failure:
        AliyunSmsProvider().send(reminder(template_code="", params={}))

    assert (failure.value.code, failure.value.permanent) == ("no_template", True)
    assert aliyun.received == []
    assert aliyun.refused == []


def test_the_receipts_alibaba_pushes_back_name_the_biz_id_and_our_reference(aliyun):
    first, second = send(reminder()), send(reminder(reference="M000000043", to="13912345678"))
    catcher = PushCatcher(answer=json.dumps({"code": 0, "msg": "成功"}).encode()).start()
    try:
        status, answer = aliyun.push_receipts(
            catcher.url("/outreach/receipts/sms/s3cret/"), aliyun.receipts_for_received()
        )
    finally:
        catcher.stop()

    assert status == 200
    assert json.loads(answer)["code"] == 0
    assert catcher.content_types == ["application/json"]
    receipts = sms_receipts_parse(catcher.bodies[0])
    assert [(r.provider_message_id, r.reference, r.delivered) for r in receipts] == [
        (first.provider_message_id, "M000000042", True),
        (second.provider_message_id, "M000000043", True),
    ]
    assert all(r.error_code == "DELIVERED" and r.at.utcoffset().total_seconds() == 8 * 3600 for r in receipts)


@pytest.mark.parametrize("to", ["13812345678,13912345678", "138 1234 5678", "", "张三"])
def test_an_sms_goes_to_exactly_one_number(aliyun, to):
    with pytest.raises(SendFailed) as failure:
        send(reminder(to=to))

    assert (failure.value.code, failure.value.permanent) == ("invalid_number", True)
    assert aliyun.received == []
