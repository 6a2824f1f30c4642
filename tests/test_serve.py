"""``make serve``'s script serves the back office as production does: gunicorn, DEBUG off, static files collected
with hashed names and compressed copies, the probe, HTTPS redirects, JSON request logs, graceful restarts."""

import gzip
import http.client
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEY = "serve-test-only-Zq8wX3vN7mK2pL9rT4yB6cH1jF5dG0sA8eU3iO"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The TLS test's own certificate, made by openssl for 127.0.0.1; its client trusts that one certificate.
_TLS: dict[str, ssl.SSLContext] = {}


def _request(port: int, method: str, path: str, body: str | None = None, **headers: str) -> http.client.HTTPResponse:
    if port in _TLS:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=_TLS[port])
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **headers})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def _get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    return _request(port, "GET", path, **headers)


def _wait_until_up(port: int, server: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            server.stdout.seek(0)
            pytest.fail(f"make serve stopped: {server.stdout.read()[-3000:]}")
        try:
            if _get(port, "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail("make serve did not answer its probe in time")


@pytest.fixture
def served(tmp_path):
    yield from _serve(tmp_path)


def _serve(tmp_path, tls: ssl.SSLContext | None = None, **settings: str):
    port = _free_port()
    if tls:
        _TLS[port] = tls
    # Not the test run's own: the browser tests allow async-unsafe calls, which a deployment refuses.
    unset = {"DEBUG", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    environment.update(
        PORT=str(port),
        SECRET_KEY=KEY,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        WEB_CONCURRENCY="2",
        **settings,
    )
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(  # noqa: S603 - our own script, by its path in the repository
        [str(ROOT / "scripts" / "serve.sh")],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server.stdout = log
    try:
        _wait_until_up(port, server)
        yield port, server, tmp_path, log
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        log.close()
        _TLS.pop(port, None)


def test_make_serve_serves_as_production_does(served):
    port, server, tmp_path, log = served

    probe = _get(port, "/healthz")
    assert (probe.status, probe.body) == (200, b"database ok\n")

    plain = _get(port, "/admin/login/")
    assert plain.status == 301
    assert plain.getheader("Location") == "https://127.0.0.1/admin/login/"

    login = _get(port, "/admin/login/", **{"X-Forwarded-Proto": "https"})
    assert login.status == 200
    assert login.getheader("Strict-Transport-Security").startswith("max-age=31536000")
    stylesheet = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.body)
    assert stylesheet, "the login page names the admin's stylesheet by its hashed name"

    css = _get(port, stylesheet.group(1).decode(), **{"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"})
    assert css.status == 200
    assert css.getheader("Content-Encoding") == "gzip"
    assert b"body" in gzip.decompress(css.body)
    assert "immutable" in css.getheader("Cache-Control")

    database = tmp_path / "serve.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600

    # A graceful restart: new workers start, the old ones finish, the service never stops answering.
    os.kill(server.pid, signal.SIGHUP)
    for _attempt in range(20):
        assert _get(port, "/healthz").status == 200
        time.sleep(0.1)

    log.flush()
    log.seek(0)
    written = log.read()
    assert '"route": "admin/login/"' in written
    assert '"status": 200' in written
    assert "Handling signal: hup" in written


@pytest.fixture
def served_over_tls(tmp_path):
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - openssl with our own arguments
        [
            *("/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    trusting = ssl.create_default_context(cafile=str(certificate))
    yield from _serve(tmp_path, tls=trusting, TLS_CERTFILE=str(certificate), TLS_KEYFILE=str(key))


def test_make_serve_ends_tls_itself_without_a_proxy(served_over_tls):
    """With TLS_CERTFILE and TLS_KEYFILE, gunicorn speaks HTTPS: no X-Forwarded-Proto, and a sign-in form works."""
    port, _server, _tmp_path, log = served_over_tls

    login = _get(port, "/admin/login/")
    assert login.status == 200, "over TLS the page is served, not redirected"
    assert login.getheader("Strict-Transport-Security").startswith("max-age=31536000")
    cookie = login.getheader("Set-Cookie")
    assert "csrftoken=" in cookie
    assert "Secure" in cookie
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login.body).group(1).decode()
    csrf = re.search(r"csrftoken=([^;]+)", cookie).group(1)

    # The browser's own headers: its Origin is https, which the CSRF check holds against the request's scheme.
    answer = _request(
        port,
        "POST",
        "/admin/login/?next=/admin/",
        body=f"csrfmiddlewaretoken={token}&username=nobody&password=wrong",
        **{
            "Host": f"127.0.0.1:{port}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Origin": f"https://127.0.0.1:{port}",
            "Referer": f"https://127.0.0.1:{port}/admin/login/",
        },
    )
    assert answer.status == 200, (cookie, re.findall(rb"<p>(.*?)</p>", answer.body))  # a CSRF refusal is a 403
    assert b"errornote" in answer.body, "the form answers the wrong password, past the CSRF check"

    log.flush()
    log.seek(0)
    assert "Serving https://127.0.0.1:" in log.read()


def test_make_serve_refuses_half_a_tls_pair(tmp_path):
    """A certificate without its key is refused in one line naming both settings, before anything starts."""
    certificate = tmp_path / "cert.pem"
    certificate.write_text("not used")
    environment = {**os.environ, "TLS_CERTFILE": str(certificate), "SECRET_KEY": KEY}
    environment.pop("TLS_KEYFILE", None)
    finished = subprocess.run(  # noqa: S603 - our own script
        [str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 2
    assert f"TLS_CERTFILE='{certificate}', TLS_KEYFILE=''" in finished.stderr
