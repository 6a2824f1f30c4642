import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are plain synchronous calls on purpose.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: run `make test` as root, or `sudo apt-get install -y chromium`.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    # The browser reaches the live server as the TLS proxy in front of production would pass it on:
    # marked as HTTPS (X-Forwarded-Proto), its pages' own origin trusted for CSRF.
    settings.CSRF_TRUSTED_ORIGINS = [live_server.url]
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        locale="en-US",
        extra_http_headers={"X-Forwarded-Proto": "https"},
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
