"""The optional TOTP second factor: enrolling one from a QR code, signing in with its code, and the roles that
``OTP_REQUIRED_FOR_ROLES`` holds to enrolling before anything else. Codes are computed here from the device's
secret by RFC 6238 (HOTP of the 30-second steps since the epoch), as an authenticator app computes them."""

import base64
import datetime
import io
import json
import re

import pytest
import time_machine
import zxingcpp
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from backoffice.kernel.roles import AGENT, LEGAL, SUPERVISOR
from tests.factories import user_in
from tests.kernel.test_serving import JsonLines
from tests.test_settings import start

PASSWORD = "pw-123456"
NOON = datetime.datetime(2026, 5, 4, 4, 0, tzinfo=datetime.UTC)
REQUIRED = ["legal", "supervisor", "superuser"]


def code_of(device: TOTPDevice, at: datetime.datetime) -> str:
    """Return the six digits an authenticator app holding the device's secret shows at a moment."""
    steps = int((at.timestamp() - device.t0) // device.step)
    return f"{hotp(device.bin_key, steps, digits=device.digits):06d}"


def sign_in(client: object, username: str, code: str | None = None) -> object:
    """Post the login form with the right password, and a code if given."""
    form = {"username": username, "password": PASSWORD}
    if code is not None:
        form["otp_token"] = code
    return client.post("/admin/login/", form)


def confirmed_device_for(user: User) -> TOTPDevice:
    """Give the user a confirmed TOTP device (as enrolment leaves it)."""
    return TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_enrolment_shows_the_secret_as_a_qr_code_and_the_first_right_code_confirms_it(client, db, clock):
    agent = user_in(AGENT, "agent-otp")
    client.force_login(agent)
    page = client.get("/admin/second-factor/")
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    html = page.content.decode()
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1))
    scanned = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [code.text for code in scanned] == [device.config_url]
    assert "issuer=Collections%20back%20office" in device.config_url
    secret = re.search(r'id="second-factor-secret">([^<]+)<', html).group(1).replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    # Opening the page again shows the same secret until it is confirmed.
    client.get("/admin/second-factor/")
    assert TOTPDevice.objects.filter(user=agent).count() == 1

    wrong = client.post("/admin/second-factor/", {"otp_token": "000000" if code_of(device, NOON) != "000000" else "1"})
    assert wrong.status_code == 200
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    clock.shift(datetime.timedelta(seconds=30))  # past the one-second back-off after a wrong code
    with JsonLines("backoffice.security") as log:
        right = client.post(
            "/admin/second-factor/", {"otp_token": code_of(device, NOON + datetime.timedelta(seconds=30))}
        )
    assert right.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert [(line["event"], line["user_id"]) for line in log.lines] == [("second_factor_enrolled", agent.pk)]


def test_signing_in_with_a_second_factor_takes_its_current_code_and_no_other(client, db, clock):
    legal = user_in(LEGAL, "legal-otp")
    device = confirmed_device_for(legal)
    missing = sign_in(client, "legal-otp")
    assert missing.status_code == 200
    assert "Enter the code from your authenticator app" in missing.content.decode()
    assert SESSION_KEY not in client.session
    with JsonLines("backoffice.security") as log:
        wrong = sign_in(client, "legal-otp", code="12345")
    assert wrong.status_code == 200
    assert SESSION_KEY not in client.session
    assert ("second_factor_failed", legal.pk) in [(line["event"], line.get("user_id")) for line in log.lines]
    assert "12345" not in json.dumps(log.lines)

    clock.shift(datetime.timedelta(seconds=30))
    code = code_of(device, NOON + datetime.timedelta(seconds=30))
    assert sign_in(client, "legal-otp", code=code).status_code == 302
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    # The same code a second time, from another browser: refused (a code is good once).
    other = Client()
    clock.shift(datetime.timedelta(seconds=2))
    assert sign_in(other, "legal-otp", code=code).status_code == 200
    assert SESSION_KEY not in other.session


def test_a_login_without_a_second_factor_signs_in_by_password_alone(client, db):
    user_in(AGENT, "agent-plain")
    assert sign_in(client, "agent-plain").status_code == 302
    assert client.get("/admin/").status_code == 302  # to the agent's queue: nothing asks for a second factor


def test_a_required_role_without_a_device_reaches_nothing_but_enrolment(client, db, settings, clock):
    settings.OTP_REQUIRED_FOR_ROLES = REQUIRED
    user_in(LEGAL, "legal-new")
    assert sign_in(client, "legal-new").status_code == 302
    for url in ("/admin/", "/admin/letters/letter/", "/admin/reports/dashboard/", "/api/v1/cases/"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/admin/second-factor/"), url
    assert client.get("/admin/second-factor/").status_code == 200
    device = TOTPDevice.objects.get(user__username="legal-new")
    assert client.post("/admin/second-factor/", {"otp_token": code_of(device, NOON)}).status_code == 302
    assert client.get("/admin/letters/letter/").status_code == 200


def test_the_required_roles_are_legal_supervisors_and_superusers_as_set(client, db, settings):
    settings.OTP_REQUIRED_FOR_ROLES = REQUIRED
    for user in (user_in(SUPERVISOR, "boss-new"), User.objects.create_superuser("root-new", password=PASSWORD)):
        client.force_login(user)
        assert client.get("/admin/")["Location"] == "/admin/second-factor/", user.username
    client.force_login(user_in(AGENT, "agent-new"))
    assert client.get("/admin/")["Location"] != "/admin/second-factor/"
    settings.OTP_REQUIRED_FOR_ROLES = []
    client.force_login(User.objects.get(username="boss-new"))
    assert client.get("/admin/reports/dashboard/").status_code == 200


def test_a_required_role_s_session_not_signed_in_with_its_device_is_ended(client, db, settings):
    settings.OTP_REQUIRED_FOR_ROLES = REQUIRED
    supervisor = user_in(SUPERVISOR, "boss-device")
    confirmed_device_for(supervisor)
    client.force_login(supervisor)  # a session from before its device, say
    response = client.get("/admin/reports/dashboard/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/")
    assert SESSION_KEY not in client.session


def test_an_unknown_role_in_the_setting_stops_start_up():
    result = start(DEBUG="true", OTP_REQUIRED_FOR_ROLES="legal,auditor")
    assert result.returncode != 0
    assert "OTP_REQUIRED_FOR_ROLES: auditor" in result.stderr
