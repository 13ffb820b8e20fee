"""Browser journey of self-service access, at desktop and phone sizes, in English and in
Dutch: a forgotten password set anew from the link of the e-mail, signing in with it,
then an API token made on its page (the key shown once, and working), and revoked after
the confirmation (the key then refused). No Content-Security-Policy violation, nothing
wider than the phone."""

import json
import re
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

import pytest
from django.core import mail

from tests.e2e.browsing import open_menu, path_of
from tests.e2e.layout import nothing_overflows
from tests.e2e.signing_in import sign_in_through_form

pytestmark = pytest.mark.django_db(transaction=True)

# language: (browser locale, demo user whose language it is, texts the pages show)
LANGUAGES = {
    "en": (
        "en-GB",
        "wd.admin@contoso.example",
        {
            "reset": "Forgot your password?",
            "sent": "Check your e-mail",
            "set": "Set a new password",
            "changed": "Your password was changed. Sign in with the new password.",
            "tokens": "API tokens",
            "revoke": "Revoke API token",
            "revoked": "was revoked",
            "subject": "Set a new password for the billing portal",
        },
    ),
    "nl": (
        "nl-NL",
        "ca.owner@woodgrove.example",
        {
            "reset": "Wachtwoord vergeten?",
            "sent": "Controleer uw e-mail",
            "set": "Een nieuw wachtwoord instellen",
            "changed": "Uw wachtwoord is gewijzigd. Meld u aan met het nieuwe wachtwoord.",
            "tokens": "API-tokens",
            "revoke": "API-token intrekken",
            "revoked": "is ingetrokken",
            "subject": "Stel een nieuw wachtwoord in voor het factureringsportal",
        },
    ),
}
NEW_PASSWORD = "Tulip-harbour-2031"


@pytest.fixture
def access_page(new_page, size, language):
    return new_page(size, locale=LANGUAGES[language][0])


def _mail_to(address):
    for _ in range(100):  # the send task runs once the request's transaction committed
        found = [m for m in mail.outbox if m.to == [address]]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no e-mail to {address}")


def _api_status(live_server, key) -> tuple[int, dict]:
    request = urllib.request.Request(f"{live_server.url}/api/v1/me/", headers={"Authorization": f"Token {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test's own server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_reset_the_password_from_the_email_then_make_and_revoke_a_token(access_page, live_server, language):
    from accounts import demo as accounts_demo

    accounts_demo.seed()
    page = access_page
    _locale, email, text = LANGUAGES[language]

    # Sign-in page › Forgot your password? › the e-mail address.
    page.goto("/sign-in/")
    page.click("#forgot-password")
    assert page.locator("h1").inner_text() == text["reset"]
    nothing_overflows(page, "the reset request")
    page.fill("input[name=email]", email)
    page.click("main button[type=submit]")
    page.wait_for_url("**/password-reset/sent/")
    assert page.locator("h1").inner_text() == text["sent"]
    nothing_overflows(page, "the e-mail sent page")

    # The link of the e-mail (its address is the portal's configured one: open its path here).
    message = _mail_to(email)
    assert message.subject == text["subject"]
    link = urlparse(re.search(r"https?://\S+/password-reset/\S+/\S+/", message.body).group(0)).path
    page.goto(link)
    page.wait_for_url("**/set-password/")
    assert page.locator("h1").inner_text() == text["set"]
    nothing_overflows(page, "the new-password page")
    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/sign-in/")
    assert text["changed"] in page.locator(".messages").inner_text()
    # The link is spent.
    page.goto(link)
    assert path_of(page) == link and page.locator("main form").count() == 0

    # Sign in with the new password; the user menu › API tokens.
    sign_in_through_form(page, email, NEW_PASSWORD)
    open_menu(page)
    page.locator("summary.whoami").click()
    page.locator(".user-menu a[href='/profile/api-tokens/']").click()
    page.wait_for_url("**/profile/api-tokens/")
    assert page.locator("h1").inner_text() == text["tokens"]
    nothing_overflows(page, "the API tokens page")

    # Make a token: the key is shown once, and works.
    page.fill("input[name=name]", "Nightly export")
    page.select_option("select[name=expires_in_days]", "30")
    page.click("#token-form button[type=submit]")
    key = page.locator("#new-token-key").inner_text().strip()
    assert len(key) == 43
    nothing_overflows(page, "the new key")
    status, body = _api_status(live_server, key)
    assert status == 200 and body["email"] == email
    page.goto("/profile/api-tokens/")
    assert page.locator("#new-token-key").count() == 0 and key not in page.content()
    assert "Nightly export" in page.locator("#tokens").inner_text()
    nothing_overflows(page, "the token list")

    # Revoke it, after the confirmation page.
    page.locator("#tokens a[href$='/revoke/']").click()
    page.wait_for_url("**/revoke/")
    assert page.locator("h1").inner_text() == text["revoke"]
    nothing_overflows(page, "the revoke confirmation")
    page.click("#confirm-revoke")
    page.wait_for_url("**/profile/api-tokens/")
    assert text["revoked"] in page.locator(".messages").inner_text()
    assert page.locator("#tokens").count() == 0
    status, body = _api_status(live_server, key)
    assert status == 401 and body["code"] == "token_revoked"
    assert page.csp_violations == []
