"""The site's icon is served, and the second-factor devices' admin shows no secret."""

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.kernel.signin.services import second_factor_start
from tests.factories import user_in

pytestmark = pytest.mark.django_db


def test_the_browsers_favicon_request_is_sent_to_the_icon_among_the_static_files(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/backoffice/favicon.ico")
    with open(finders.find("backoffice/favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    client.force_login(User.objects.create_superuser("root-icon", password="pw-123456"))
    assert 'rel="icon" href="/static/backoffice/favicon.ico"' in client.get(reverse("admin:index")).content.decode()


def test_the_devices_admin_shows_no_secret_key_qr_code_or_configuration(client):
    device = second_factor_start(user=user_in("Supervisor", "supervisor-otp"))
    client.force_login(User.objects.create_superuser("root-otp", password="pw-123456"))
    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    for shown in (listing, page):
        assert device.key not in shown
        assert reverse("admin:otp_totp_totpdevice_config", args=[device.pk]) not in shown
    assert client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403
    assert client.get(reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk])).status_code == 403
    assert TOTPDevice.objects.get(pk=device.pk).key == device.key
