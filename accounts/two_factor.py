"""Two-factor sign-in with an authenticator app (TOTP, django-otp).

Who: required for support staff, staff and superusers (``permissions.must_use_two_factor``),
optional for customers (``permissions.can_turn_off_two_factor``).

The state of a session:

* signed in with the password only (``django.contrib.auth.login``), and a step pending in
  the session (``STEP_SESSION_KEY``): ``VERIFY`` (type the code of the confirmed device)
  or ``SET_UP`` (a user who must use two factors has no device yet: forced enrolment).
  The step is recorded whenever a user signs in (the ``user_logged_in`` receiver
  ``record_sign_in``, so every door that signs in gets it: the sign-in page, the admin's
  sign-in form); for users who must use two factors it is also worked out when a
  session has none (``pending_step``).
* verified: django-otp's ``otp_device_id`` in the session (``mark_verified``), read by
  ``OTPMiddleware`` into ``request.user.is_verified()``.

``accounts.two_factor_middleware`` sends a session with a pending step to that step's
page and refuses everything else. The services below verify codes against a device;
django-otp's throttling makes every wrong code count (the device waits 1, 2, 4 ...
seconds before it takes the next one), and a code is accepted once only.
"""

import math
from base64 import b32encode

import segno
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing_portal.errors import DomainError, InvalidInput, NotAllowed

from . import permissions

STEP_SESSION_KEY = "two_factor_step"
VERIFY = "verify"
SET_UP = "set_up"
STEP_URLS = {VERIFY: "accounts:two_factor_verify", SET_UP: "accounts:two_factor_setup"}
DEVICE_NAME = "Authenticator app"


class TooManyWrongCodes(DomainError):
    status_code = 429
    default_code = "otp_throttled"


# --- The session --------------------------------------------------------------------------


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_two_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def step_after_password(user) -> str | None:
    """What a user still has to do after the password: type the code, set up a device,
    or nothing (a customer who has not turned two-factor sign-in on)."""
    if has_two_factor(user):
        return VERIFY
    return SET_UP if permissions.must_use_two_factor(user) else None


def record_sign_in(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: the step this new session must pass."""
    session = getattr(request, "session", None)
    if session is None:
        return
    step = step_after_password(user)
    if step:
        session[STEP_SESSION_KEY] = step
    else:
        session.pop(STEP_SESSION_KEY, None)


def is_verified(user) -> bool:
    verified = getattr(user, "is_verified", None)
    return callable(verified) and bool(verified())


def pending_step(request) -> str | None:
    """The step this signed-in session must pass before it counts as signed in, or None.
    Costs no query for a customer: the step was recorded at sign-in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or is_verified(user):
        return None
    step = request.session.get(STEP_SESSION_KEY)
    if step not in STEP_URLS and permissions.must_use_two_factor(user):
        # A session that never went through a sign-in of this portal version.
        step = VERIFY if has_two_factor(user) else SET_UP
        request.session[STEP_SESSION_KEY] = step
    return step if step in STEP_URLS else None


def step_url(step: str, next_url: str = "") -> str:
    url = reverse(STEP_URLS[step])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def mark_verified(request, device: TOTPDevice) -> None:
    """The session passed the code step with ``device`` (a new session key for the
    signed-in session, as at the password step)."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session.pop(STEP_SESSION_KEY, None)


# --- Codes ----------------------------------------------------------------------------------


def _wait_seconds(data) -> int:
    locked_until = (data or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def _check_code(user, device: TOTPDevice, code: str) -> TOTPDevice:
    """The device, if it accepts ``code``; otherwise a refusal (the wrong code counted)."""
    allowed, data = device.verify_is_allowed()
    if not allowed:
        seconds = _wait_seconds(data)
        message = ngettext(
            "Too many wrong codes. Wait %(seconds)d second and try again.",
            "Too many wrong codes. Wait %(seconds)d seconds and try again.",
            seconds,
        ) % {"seconds": seconds}
        raise TooManyWrongCodes(message, fields={"otp": [message]})
    verified = verify_token(user, device.persistent_id, (code or "").replace(" ", ""))
    if verified is None:
        message = _("The code is not correct. Enter the 6-digit code that your authenticator app shows now.")
        raise InvalidInput(message, code="otp_invalid", fields={"otp": [message]})
    return verified


def two_factor_verify(*, user, code: str) -> TOTPDevice:
    """The code step of a sign-in: the user's confirmed device must accept ``code``."""
    device = confirmed_device(user)
    if device is None:
        raise NotAllowed(_("Two-factor sign-in is not set up for this account."), code="two_factor_not_set_up")
    return _check_code(user, device, code)


def two_factor_check_for_token(*, user, code: str) -> None:
    """The API token endpoint: a user with two-factor sign-in gets a token only with a
    valid ``otp`` code; one who must use it but has no device yet sets it up first."""
    device = confirmed_device(user)
    if device is None:
        if permissions.must_use_two_factor(user):
            raise NotAllowed(
                _(
                    "Two-factor sign-in is required for this account and is not set up yet. "
                    "Sign in on the portal's sign-in page once to set it up."
                ),
                code="two_factor_setup_required",
            )
        return
    if not (code or "").strip():
        message = _("Enter the 6-digit code from your authenticator app.")
        raise InvalidInput(message, code="otp_required", fields={"otp": [message]})
    _check_code(user, device, code)


# --- Setting up and turning off ------------------------------------------------------------------


def totp_device_start(*, user) -> TOTPDevice:
    """The device being set up: a new secret, kept (unconfirmed) until a code confirms it,
    so that reloading the set-up page shows the same secret."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, user, code: str) -> TOTPDevice:
    """The first code from the authenticator app confirms the device being set up; it
    then replaces any device the user had."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        raise InvalidInput(_("Start the set-up again: open the set-up page."), code="two_factor_not_started")
    device = _check_code(user, device, code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return device


def totp_device_remove(*, user, code: str) -> None:
    """Turn two-factor sign-in off: a customer's own choice, with a current code (proof
    of the second factor, which the password of a signed-in session is not)."""
    if not permissions.can_turn_off_two_factor(user):
        raise NotAllowed(_("Two-factor sign-in is required for support staff and cannot be turned off."))
    two_factor_verify(user=user, code=code)
    TOTPDevice.objects.filter(user=user).delete()


# --- Showing the secret ---------------------------------------------------------------------------


def secret_text(device: TOTPDevice) -> str:
    """The secret as the authenticator apps take it when typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` address as an inline SVG QR code (no style attribute or
    script, so the Content-Security-Policy needs nothing more)."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr-code",
        lineclass=None,
        omitsize=True,
        title=_("QR code for your authenticator app"),
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # segno escapes the title
