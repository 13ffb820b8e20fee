"""Signing in through the real sign-in form in the browser, with the code step for a
user who has (or, as support staff, must have) two-factor sign-in: the code is computed
from the device's secret, as the user's authenticator app would."""

from urllib.parse import urlparse


def _path(url: str) -> str:
    return urlparse(url).path


def sign_in_through_form(page, email: str, password: str | None = None):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.demo import DEMO_PASSWORD
    from accounts.models import User
    from accounts.permissions import must_use_two_factor
    from tests.factories import confirmed_totp_device, totp_code

    user = User.objects.get(email__iexact=email)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and must_use_two_factor(user):
        device = confirmed_totp_device(user)  # set up before, as on a first sign-in
    page.goto("/sign-in/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password or DEMO_PASSWORD)
    page.click("main button[type=submit]")
    # "**/" alone would also match the sign-in page itself: wait until we left it.
    page.wait_for_url(lambda url: _path(url) != "/sign-in/")
    if device is not None and _path(page.url) == "/sign-in/code/":
        page.fill("input[name=otp]", totp_code(device))
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: not _path(url).startswith("/sign-in/"))
    return page
