"""The API's documentation opens in a real headless Chromium, from the product alone (no network beyond it)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_list_the_endpoints_with_no_request_leaving_the_product(page, live_server, screenshot):
    outside = []
    page.on("request", lambda request: None if request.url.startswith(live_server.url) else outside.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    screenshot("api-docs")
    assert {"/api/v1/payments/", "/api/v1/customers/", "/api/v1/cases/", "/api/v1/letters/"} <= {
        path.replace("\u200b", "") for path in paths
    }
    assert outside == []
