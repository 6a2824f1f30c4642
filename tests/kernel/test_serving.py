"""Serving as production does: the probe, HTTPS by default, one JSON log line a request, the sessions' idle clock,
security events without personal data, owner-only files."""

import datetime
import json
import logging
import stat
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.kernel.roles import SUPERVISOR
from tests.factories import user_in


class JsonLines(logging.Handler):
    """Keep what a logger writes, formatted as the settings format it (one JSON object a line)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.logger = logging.getLogger(name)
        self.setFormatter(self.logger.handlers[0].formatter)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def __enter__(self) -> "JsonLines":
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)


def test_the_probe_answers_in_plain_text_over_plain_http_without_a_login_whatever_the_host(client, db):
    response = client.get("/healthz", HTTP_X_FORWARDED_PROTO="http", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"database ok\n"
    assert "Set-Cookie" not in response


def test_the_probe_says_which_part_is_down(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database ok\nbroker down\n"


def test_the_probe_sees_the_real_broker_when_one_is_configured(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    response = client.get("/healthz")
    assert response.content == b"database ok\nbroker ok\n"


def test_plain_http_is_sent_to_https_and_https_gets_hsts(client, db):
    plain = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/admin/login/"
    secure = client.get("/admin/login/")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure["Referrer-Policy"] == "same-origin"
    assert "camera=()" in secure["Permissions-Policy"]
    assert "geolocation=()" in secure["Permissions-Policy"]


def test_session_and_csrf_cookies_are_secure_and_end_with_the_browser(client, db):
    User.objects.create_user("clerk", password="pw-123456", is_staff=True)
    response = client.post("/admin/login/?next=/admin/", {"username": "clerk", "password": "pw-123456"})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["expires"] == ""
    assert session["max-age"] == ""
    assert client.cookies["csrftoken"]["secure"]


def test_a_session_ends_after_thirty_idle_minutes_and_not_while_in_use(client, db):
    supervisor = user_in(SUPERVISOR, "idle-sup")
    start = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(supervisor)
        for _minute in range(3):  # in use: a page every 20 minutes keeps the session for an hour
            clock.shift(datetime.timedelta(minutes=20))
            assert client.get(reverse("dashboard")).status_code == 200
        clock.shift(datetime.timedelta(minutes=31))
        response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_pages_within_a_minute_of_signing_in_write_no_session(client, db):
    supervisor = user_in(SUPERVISOR, "quick-sup")
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as counted:
        for _page in range(3):
            assert client.get(reverse("dashboard")).status_code == 200
    session_queries = [query["sql"] for query in counted.captured_queries if "django_session" in query["sql"]]
    assert session_queries
    assert all(sql.lstrip().startswith("SELECT") for sql in session_queries)


def test_one_json_line_a_request_by_route_and_user_id_never_the_path_typed(client, db, settings):
    settings.SMS_RECEIPT_SECRET = "s" * 40
    supervisor = user_in(SUPERVISOR, "log-sup")
    client.force_login(supervisor)
    with JsonLines("backoffice.requests") as log:
        client.get(reverse("dashboard"), HTTP_X_REQUEST_ID="lb-7f3a9c21")
        answer = client.post(f"/outreach/receipts/sms/{'s' * 40}/", b"[]", content_type="application/json")
    first, second = log.lines
    assert {key: first[key] for key in ("request_id", "method", "route", "user_id", "status")} == {
        "request_id": "lb-7f3a9c21",
        "method": "GET",
        "route": "admin/reports/dashboard/",
        "user_id": supervisor.pk,
        "status": 200,
    }
    assert first["ms"] >= 0
    assert first["level"] == "INFO"
    assert first["logger"] == "backoffice.requests"
    assert second["route"] == "outreach/receipts/sms/<str:secret>/"
    assert second["status"] == answer.status_code
    assert second["request_id"] == answer["X-Request-ID"]
    assert len(second["request_id"]) == 32
    assert "s" * 40 not in json.dumps(log.lines)


def test_logins_and_failures_are_security_events_without_the_name_typed(client, db):
    User.objects.create_user("clerk", password="pw-123456", is_staff=True)
    with JsonLines("backoffice.security") as log:
        client.post("/admin/login/", {"username": "zhang.wei.1985", "password": "wrong"})
        client.post("/admin/login/", {"username": "zhang.wei.1985", "password": "wrong again"})
        client.post("/admin/login/", {"username": "clerk", "password": "pw-123456"})
    failed, again, success = log.lines
    assert failed["event"] == again["event"] == "login_failed"
    assert failed["username_digest"] == again["username_digest"]  # one name tried twice is visible as such
    assert success["event"] == "login"
    assert success["user_id"] == User.objects.get(username="clerk").pk
    assert "zhang.wei" not in json.dumps(log.lines)
    assert "wrong" not in json.dumps(log.lines)


def test_a_refused_page_is_a_security_event(client, db):
    agent = User.objects.create_user("plain-staff", password="pw-123456", is_staff=True)
    client.force_login(agent)
    with JsonLines("backoffice.security") as log:
        response = client.get("/admin/reports/dashboard/")
    assert response.status_code == 403
    assert [(line["event"], line["user_id"], line["status"]) for line in log.lines] == [
        ("permission_refused", agent.pk, 403)
    ]


def test_files_stored_on_this_machine_are_readable_by_their_owner_only(tmp_path):
    local = FileSystemStorage(location=tmp_path / "media")  # FILE_STORAGE=local, as the demo keeps letters
    name = local.save("letters/check.pdf", ContentFile(b"%PDF-1.7\n"))
    path = Path(local.path(name))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_sqlite_database_file_is_made_owner_only_when_opened(tmp_path, django_db_blocker):
    path = tmp_path / "backoffice.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    wrapper = DatabaseWrapper({**_sqlite_settings(), "NAME": str(path)}, alias="owner-only-check")
    with django_db_blocker.unblock():
        try:
            wrapper.ensure_connection()
        finally:
            wrapper.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _sqlite_settings() -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "OPTIONS": {},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }


@pytest.mark.parametrize("sent", ["short", "has space in it", "x" * 65, "<script>alert(1)</script>"])
def test_a_request_id_that_does_not_look_like_one_is_replaced(client, db, sent):
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


def test_an_upload_over_the_ceiling_is_refused_before_it_is_read(client, db, settings):
    settings.REQUEST_MAX_BYTES = 2 * 2**20
    client.force_login(User.objects.create_superuser("upload-root", password="pw-123456"))
    response = client.post(reverse("ledger_import"), {"kind": "payments", "notes": "x" * (3 * 2**20)})
    assert response.status_code == 413
    assert response.content.decode() == "The upload is 3.0 MB; the most this back office takes at once is 2 MB."
    assert client.post(reverse("ledger_import"), {"kind": "payments"}).status_code == 200  # under it: the form answers
