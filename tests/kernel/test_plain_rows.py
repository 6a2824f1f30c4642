"""The bulk endpoints' fast reading gives exactly what their serializers give, or steps aside for them."""

import pytest
from rest_framework import serializers

from backoffice.api.payments import PaymentIn
from backoffice.api.reversals import ReversalIn
from backoffice.kernel.api.strict import StrictSerializer, plain_rows

PAYMENT = {
    "credit_line": "CL202600000001",
    "external_reference": "PAY-0001",
    "amount": "500.00",
    "channel": "alipay",
    "received_at": "2026-12-01T10:00:00+08:00",
}
REVERSAL = {
    "payment": "PAY-0001",
    "external_reference": "REV-0001",
    "reason": "bounced",
    "note": "cheque returned",
    "reversed_at": "2026-12-03T09:30:00Z",
}

TEXTS = [
    "",
    " ",
    " PAY-1",
    "PAY-1 ",
    "PAY\t1",
    "PAY\x001",
    "PAY\u200b1",
    "付款-1",
    "x" * 32,
    "x" * 33,
    "x" * 64,
    "x" * 65,
    "x" * 501,
]
AMOUNTS = [
    "0",
    "0.1",
    "12",
    "12.345",
    "-5.00",
    "1e2",
    "NaN",
    "Infinity",
    "１.００",
    "+1.00",
    ".5",
    "5.",
    "999999999999.99",
    "9999999999999.99",
    "000000000000001.00",
    "1,000.00",
    "0" * 1000 + "1.00",
]
TIMES = [
    "2026-12-01T10:00:00Z",
    "2026-12-01T10:00:00+08",
    "2026-12-01T10:00:00+0800",
    "2026-12-01 10:00+08:00",
    "2026-12-01T10:00:00.123456-05:00",
    "2026-12-01T10:00:00.1234567+08:00",
    "2026-12-01T10:00:00",
    "2026-12-01",
    "2026-02-30T10:00:00+08:00",
    "2026-12-01T25:00:00+08:00",
    "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:59:59-08:00",
    "2026-12-01T10:00:00+24:00",
]
OTHERS = [None, 12, 12.5, True, ["x"], {"x": 1}]


def _variants(base: dict, values: dict[str, list]) -> list[dict]:
    rows = [dict(base)]
    for name, tried in values.items():
        rows += [{**base, name: value} for value in [*tried, *OTHERS]]
        rows.append({key: value for key, value in base.items() if key != name})
    return [*rows, {**base, "unknown": "x"}]


CASES = [
    (PaymentIn, row)
    for row in _variants(
        PAYMENT,
        {
            "credit_line": TEXTS,
            "external_reference": TEXTS,
            "amount": AMOUNTS,
            "channel": ["alipay", "wechat", "ALIPAY", "nope", ""],
            "received_at": TIMES,
        },
    )
] + [
    (ReversalIn, row)
    for row in _variants(
        REVERSAL,
        {
            "payment": TEXTS,
            "external_reference": TEXTS,
            "reason": ["bounced", "chargeback", "other", "nope"],
            "note": TEXTS,
            "reversed_at": TIMES,
        },
    )
]


@pytest.mark.parametrize(("serializer_class", "row"), CASES)
def test_a_row_read_plainly_is_read_as_the_serializer_reads_it(serializer_class: type, row: dict) -> None:
    plain = plain_rows(serializer_class, [row])
    serializer = serializer_class(data=[row], many=True)
    valid = serializer.is_valid()
    if plain is not None:
        assert valid, serializer.errors
        assert plain == serializer.validated_data
        # Equal is not enough: a Decimal's exponent and a time's offset must be the serializer's too.
        assert [repr(value) for value in plain[0].values()] == [
            repr(value) for value in serializer.validated_data[0].values()
        ]
        assert [type(value) for value in plain[0].values()] == [
            type(value) for value in serializer.validated_data[0].values()
        ]


def test_the_common_rows_take_the_plain_reading() -> None:
    serializer = PaymentIn(data=[PAYMENT] * 1000, many=True)
    assert serializer.is_valid()
    assert plain_rows(PaymentIn, [PAYMENT] * 1000) == serializer.validated_data
    without_note = {key: value for key, value in REVERSAL.items() if key != "note"}
    assert plain_rows(ReversalIn, [REVERSAL, without_note])[1]["note"] == ""
    # Beyond the clean rows: the other channels and reasons, plain amounts and the ISO forms of a time.
    assert sum(plain_rows(cls, [row]) is not None for cls, row in CASES) >= 30


def test_one_row_not_plain_sends_the_whole_request_to_the_serializer() -> None:
    assert plain_rows(PaymentIn, [PAYMENT, {**PAYMENT, "amount": 500}]) is None
    assert plain_rows(PaymentIn, [PAYMENT, "not an object"]) is None


def test_a_serializer_with_a_field_it_cannot_read_plainly_is_never_read_plainly() -> None:
    class WithEmail(StrictSerializer):
        email = serializers.EmailField()

    class WithOwnCheck(StrictSerializer):
        name = serializers.CharField()

        def validate_name(self, value: str) -> str:
            return value.upper()

    assert plain_rows(WithEmail, [{"email": "a@example.com"}]) is None
    assert plain_rows(WithOwnCheck, [{"name": "a"}]) is None
