"""The Content-Security-Policy breaks no page: the API docs (Swagger UI from the
sidecar) and a signed-in page load with no violation reported by the browser."""

import pytest


def _watch_csp(page):
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


@pytest.mark.django_db(transaction=True)
def test_api_docs_render_under_the_policy(page):
    violations = _watch_csp(page)
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Billing portal API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")  # the schema was fetched and rendered
    assert violations == []


@pytest.mark.django_db(transaction=True)
def test_signed_in_pages_have_no_policy_violation(page, sign_in):
    from accounts import demo

    demo.seed()
    violations = _watch_csp(page)
    sign_in("wd.admin@contoso.example")
    for path in ("/", "/invoices/", "/payment-methods/"):
        page.goto(path)
        page.wait_for_load_state("load")
    assert violations == []
