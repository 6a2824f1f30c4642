"""The demo's providers print one line of headers per message: never the text, the params or the full number."""

import pytest

from backoffice.kernel.outbound import Outgoing, send


@pytest.mark.parametrize(("channel", "to"), [("sms", "13812345678"), ("push", "BT-2026-000123")])
def test_the_console_prints_headers_only(settings, capsys, channel, to):
    settings.OUTBOUND_PROVIDERS = {
        **settings.OUTBOUND_PROVIDERS,
        channel: "backoffice.kernel.outbound.console.ConsoleProvider",
    }
    outgoing = Outgoing(
        channel=channel,
        reference="M000000042",
        to=to,
        language="zh-hans",
        subject="还款提醒",
        text="张三您好，您的账单 1,234.50 元已逾期 3 天。",
        template_code="SMS_300000001",
        params={"name": "张三", "amount": "1,234.50"},
    )

    accepted = send(outgoing)

    printed = capsys.readouterr().out
    assert printed.count("\n") == 1
    assert f"[{channel}] reference=M000000042" in printed
    assert to[:3] + "****" + to[-4:] in printed
    assert to not in printed
    assert not any(word in printed for word in ("张三", "1,234.50", "逾期", "还款提醒"))
    assert accepted.provider == "console"
    assert accepted.provider_message_id in printed
