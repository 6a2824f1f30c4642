"""The SMS and push providers follow the environment, and a missing key stops start-up naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(*command: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py (``check`` by default) in a fresh process with only the project's variables given."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SMS_", "ALIYUN_", "PUSH_", "WEBHOOK_"))}
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "manage.py", *(command or ["check"])],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SMS_PROVIDER": "twilio"}, "SMS_PROVIDER='twilio'"),
        (
            {"SMS_PROVIDER": "aliyun", "ALIYUN_SMS_SIGN_NAME": "示例"},
            "ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET must be set when SMS_PROVIDER=aliyun",
        ),
        ({"ALIYUN_SMS_ENDPOINT": "dysmsapi.aliyuncs.com"}, "ALIYUN_SMS_ENDPOINT='dysmsapi.aliyuncs.com'"),
        ({"SMS_RECEIPT_SECRET": "short"}, "SMS_RECEIPT_SECRET must be at least 32 characters"),
        ({"PUSH_PROVIDER": "http", "PUSH_SERVICE_URL": "https://push.example/v1"}, "PUSH_SIGNING_SECRET must be set"),
        (
            {"PUSH_PROVIDER": "http", "PUSH_SERVICE_URL": "http://push.example/v1", "PUSH_SIGNING_SECRET": "s"},
            "PUSH_SERVICE_URL='http://push.example/v1' must be https while WEBHOOK_HTTPS_ONLY is on",
        ),
    ],
)
def test_a_bad_provider_setting_stops_start_up_naming_it(env, named):
    result = start(DEBUG="false", SECRET_KEY=os.environ["SECRET_KEY"], **env)

    assert result.returncode != 0
    assert named in result.stderr


def test_the_providers_follow_the_environment():
    script = "from django.conf import settings; print(settings.OUTBOUND_PROVIDERS['sms'], settings.OUTBOUND_PROVIDERS['push'])"
    result = start(
        "shell",
        "--no-imports",
        "-c",
        script,
        DEBUG="false",
        SECRET_KEY=os.environ["SECRET_KEY"],
        SMS_PROVIDER="aliyun",
        ALIYUN_SMS_ACCESS_KEY_ID="LTAI-key",
        ALIYUN_SMS_ACCESS_KEY_SECRET="secret",
        ALIYUN_SMS_SIGN_NAME="示例消费金融",
        PUSH_PROVIDER="http",
        PUSH_SERVICE_URL="https://push.example/v1",
        PUSH_SIGNING_SECRET="whsec_x",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "backoffice.kernel.outbound.aliyun.AliyunSmsProvider",
        "backoffice.kernel.outbound.push.PushProvider",
    ]
