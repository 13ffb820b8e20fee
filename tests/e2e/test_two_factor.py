"""Browser journey of two-factor sign-in, at desktop and phone sizes: the demo support
user (no authenticator app seeded) signs in with the password, is held at the set-up
page, adds the app from the secret shown (the code computed from that secret, as the
app would), reaches the support queue; then signs out and in again through the code
step, where a wrong code is refused first. No Content-Security-Policy violation, nothing
wider than the phone."""

from urllib.parse import urlparse

import pytest

from tests.e2e.browsing import open_menu, path_of
from tests.e2e.layout import nothing_overflows
from tests.factories import totp_code, totp_code_for_secret

pytestmark = pytest.mark.django_db(transaction=True)

SUPPORT = "support@portal.example"


def _password_step(page):
    from accounts.demo import DEMO_PASSWORD

    page.goto("/sign-in/")
    page.fill("input[name=username]", SUPPORT)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: urlparse(url).path != "/sign-in/")


def test_support_user_sets_up_the_app_then_signs_in_with_a_code(sized_page):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import demo as accounts_demo

    demo = accounts_demo.seed()
    page = sized_page

    # First sign-in: held at the set-up page, whatever page is asked for.
    _password_step(page)
    assert path_of(page) == "/security/two-factor/set-up/"
    assert page.locator("h1").inner_text() == "Set up two-factor sign-in"
    assert "Set up the app now to continue" in page.locator("main").inner_text()
    assert page.locator("nav.mainnav").count() == 0
    qr = page.locator(".qr svg.qr-code")
    assert qr.is_visible() and qr.bounding_box()["width"] >= 120
    nothing_overflows(page)
    page.goto("/support-queue/")
    assert path_of(page) == "/security/two-factor/set-up/"

    secret = page.locator("#totp-secret").inner_text()
    page.fill("input[name=otp]", totp_code_for_secret(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/support-queue/")
    assert "Two-factor sign-in is on" in page.locator(".messages").inner_text()
    open_menu(page)
    assert page.locator("nav.mainnav a[href='/support-queue/']").is_visible()
    page.goto("/security/")
    assert "cannot be turned off" in page.locator("main").inner_text()
    nothing_overflows(page)

    # Sign out, and in again: the code step, a wrong code first.
    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")
    _password_step(page)
    assert path_of(page) == "/sign-in/code/"
    assert page.locator("h1").inner_text() == "Enter your code"
    nothing_overflows(page)
    device = TOTPDevice.objects.get(user=demo.users["support"], confirmed=True)
    right = totp_code(device)
    page.fill("input[name=otp]", "000000" if right != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    assert "The code is not correct" in page.locator(".field .error").inner_text()
    assert path_of(page) == "/sign-in/code/"
    # The device waits a second after a wrong code (django-otp's throttling).
    page.wait_for_timeout(1500)
    page.fill("input[name=otp]", totp_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/")
    assert page.locator("h1").inner_text() == "Overview"
    assert page.csp_violations == []
