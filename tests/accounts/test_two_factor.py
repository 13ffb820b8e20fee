"""Two-factor sign-in (TOTP, django-otp): required for support staff, staff and
superusers, offered to customers. The password step, the code step, forced set-up, the
pages, the admin site, the API token endpoint and the lock-out around them."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import permissions, two_factor
from billing_portal.admin_site import PortalAdminSite
from tests.factories import (
    UserFactory,
    confirmed_totp_device,
    sign_in_with_verified_device,
    totp_code,
    totp_code_for_secret,
)

PASSWORD = "secret-pass-123"
SIGN_IN = reverse("accounts:login")
VERIFY = reverse("accounts:two_factor_verify")
SET_UP = reverse("accounts:two_factor_setup")
SECURITY = reverse("accounts:security")
TOKEN = "/api/v1/auth/token/"


def _sign_in(client, user, password=PASSWORD, address="203.0.113.7", **extra):
    return client.post(SIGN_IN, {"username": user.email, "password": password, **extra}, REMOTE_ADDR=address)


def _shown_secret(html: str) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1)


def _errors(html: str) -> str:
    return " ".join(re.findall(r'class="error" role="alert">([^<]+)<', html))


@pytest.fixture
def support(world):
    return world.users["support"]


@pytest.fixture
def customer(world):
    return world.users["ca_owner"]


# --- Who must use it ----------------------------------------------------------------------------


def test_required_for_support_staff_staff_and_superusers_offered_to_customers(world):
    staff_only = UserFactory(is_staff=True)
    superuser = UserFactory(is_superuser=True)
    for user in (world.users["support"], staff_only, superuser):
        assert permissions.must_use_two_factor(user) and not permissions.can_turn_off_two_factor(user)
    for key in ("wd_admin", "ca_owner", "bp1_reader", "ead_ro"):
        user = world.users[key]
        assert not permissions.must_use_two_factor(user) and permissions.can_turn_off_two_factor(user)
    for nobody in (AnonymousUser(), world.users["inactive"], None):
        assert not permissions.must_use_two_factor(nobody) and not permissions.can_turn_off_two_factor(nobody)


# --- Staff without a device: forced set-up -----------------------------------------------------------


def test_staff_without_a_device_is_sent_to_set_up_after_the_password(support, client):
    response = _sign_in(client, support)
    assert response.status_code == 302
    assert response["Location"] == f"{SET_UP}?next=%2F"


def test_staff_without_a_device_reaches_no_other_page_until_set_up(support, client):
    _sign_in(client, support)
    for url in ("/", "/support-queue/", "/subscriptions/", "/admin/", SECURITY, VERIFY):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SET_UP), url
    assert client.get("/support-queue/")["Location"] == f"{SET_UP}?next=%2Fsupport-queue%2F"
    # The API with this session: the one error shape, 403.
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json() == {
        "code": "two_factor_setup_required",
        "detail": "Set up two-factor sign-in first: open the portal in your browser and follow the steps.",
        "fields": {},
    }
    # The language switch and signing out still work.
    switched = client.post(reverse("set_language"), {"language": "nl", "next": SET_UP})
    assert switched.status_code == 302 and switched["Location"] == SET_UP
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_set_up_page_shows_the_secret_and_a_qr_code_within_the_content_security_policy(support, client):
    _sign_in(client, support)
    response = client.get(SET_UP)
    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=support)
    assert not device.confirmed
    assert _shown_secret(html).replace(" ", "") == two_factor.secret_text(device).replace(" ", "")
    svg = re.search(r"<svg [^>]*>.*?</svg>", html, re.S).group(0)
    assert 'class="qr-code"' in svg and 'role="img"' in svg and "<title>" in svg
    assert "style=" not in svg and "<script" not in html.split("</head>")[1]
    assert "style-src 'self'" in response["Content-Security-Policy"]
    assert 'class="mainnav"' not in html  # no navigation before the step is passed
    # Reloading shows the same secret (one device being set up, not a new one each time).
    assert _shown_secret(client.get(SET_UP).content.decode()) == _shown_secret(html)
    assert TOTPDevice.objects.filter(user=support).count() == 1


def test_staff_sets_up_with_a_code_from_the_secret_shown_and_then_continues(support, client):
    _sign_in(client, support)
    secret = _shown_secret(client.get(SET_UP).content.decode())
    response = client.post(SET_UP, {"otp": totp_code_for_secret(secret), "next": "/support-queue/"})
    assert response.status_code == 302 and response["Location"] == "/support-queue/"
    assert TOTPDevice.objects.get(user=support).confirmed
    assert client.get("/support-queue/").status_code == 200
    assert client.get(SECURITY).status_code == 200
    assert two_factor.STEP_SESSION_KEY not in client.session


def test_set_up_refuses_a_wrong_code_and_counts_it(support, client):
    _sign_in(client, support)
    client.get(SET_UP)
    response = client.post(SET_UP, {"otp": "000000"})
    device = TOTPDevice.objects.get(user=support)
    assert response.status_code == 200
    assert "The code is not correct" in _errors(response.content.decode())
    assert not device.confirmed and device.throttling_failure_count == 1
    assert client.get("/")["Location"].startswith(SET_UP)  # still held at the set-up


def test_set_up_asks_for_six_digits(support, client):
    _sign_in(client, support)
    client.get(SET_UP)
    response = client.post(SET_UP, {"otp": "12ab"})
    assert "Enter the 6 digits of the code." in _errors(response.content.decode())
    assert TOTPDevice.objects.get(user=support).throttling_failure_count == 0  # not a try of a code


def test_a_session_without_a_recorded_step_is_still_held_for_staff(support, client):
    """A staff session from before two-factor sign-in (no step in the session)."""
    client.force_login(support)
    session = client.session
    del session[two_factor.STEP_SESSION_KEY]
    session.save()
    assert client.get("/")["Location"].startswith(SET_UP)
    confirmed_totp_device(support)
    session = client.session
    del session[two_factor.STEP_SESSION_KEY]
    session.save()
    assert client.get("/")["Location"].startswith(VERIFY)


# --- Staff with a device: the code step --------------------------------------------------------------


def test_staff_with_a_device_must_pass_the_code_step(support, client):
    device = confirmed_totp_device(support)
    response = _sign_in(client, support)
    assert response["Location"] == f"{VERIFY}?next=%2F"
    for url in ("/", "/support-queue/", "/admin/", SECURITY):
        assert client.get(url)["Location"].startswith(VERIFY), url
    # A new device cannot be set up instead of passing the code step.
    assert client.get(SET_UP)["Location"].startswith(VERIFY)
    assert client.get("/api/v1/me/").json()["code"] == "two_factor_required"
    page = client.get(VERIFY).content.decode()
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    response = client.post(VERIFY, {"otp": totp_code(device), "next": "/support-queue/"})
    assert response.status_code == 302 and response["Location"] == "/support-queue/"
    assert client.get("/support-queue/").status_code == 200
    assert client.get(VERIFY)["Location"] == "/"  # nothing left to verify


def test_wrong_code_is_refused_with_a_clear_error(support, client):
    device = confirmed_totp_device(support)
    _sign_in(client, support)
    response = client.post(VERIFY, {"otp": "123456" if totp_code(device) != "123456" else "654321"})
    assert response.status_code == 200
    assert _errors(response.content.decode()) == (
        "The code is not correct. Enter the 6-digit code that your authenticator app shows now."
    )
    assert client.get("/")["Location"].startswith(VERIFY)


def test_wrong_codes_are_throttled_even_the_right_one_waits(support, client):
    device = confirmed_totp_device(support)
    _sign_in(client, support)
    client.post(VERIFY, {"otp": "000000" if totp_code(device) != "000000" else "111111"})
    client.post(VERIFY, {"otp": "000000" if totp_code(device) != "000000" else "111111"})
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1
    response = client.post(VERIFY, {"otp": totp_code(device)})
    assert response.status_code == 429
    assert "Too many wrong codes. Wait" in _errors(response.content.decode())
    assert client.get("/")["Location"].startswith(VERIFY)
    # After the wait the right code is taken.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(hours=1))
    assert client.post(VERIFY, {"otp": totp_code(device)})["Location"] == "/"


def test_a_code_is_accepted_once(support):
    device = confirmed_totp_device(support)
    first, second = Client(), Client()
    code = totp_code(device)
    _sign_in(first, support)
    assert first.post(VERIFY, {"otp": code})["Location"] == "/"
    _sign_in(second, support)
    assert second.post(VERIFY, {"otp": code}).status_code == 200  # replayed: refused
    assert second.get("/")["Location"].startswith(VERIFY)


def test_code_step_in_dutch_for_a_dutch_user(support, client):
    support.language = "nl"
    support.save(update_fields=["language"])
    confirmed_totp_device(support)
    _sign_in(client, support)
    page = client.get(VERIFY).content.decode()
    assert "Voer uw code in" in page and "authenticator-app" in page
    response = client.post(VERIFY, {"otp": "12"})
    assert "Voer de 6 cijfers van de code in." in _errors(response.content.decode())


def test_staff_cannot_turn_two_factor_off(support, client_for):
    client = client_for(support)
    page = client.get(SECURITY).content.decode()
    assert "cannot be turned off" in page and 'name="otp"' not in page
    assert client.post(SECURITY, {"otp": "123456"}).status_code == 403
    assert TOTPDevice.objects.filter(user=support, confirmed=True).exists()


def test_staff_helper_signs_in_verified(support, client):
    """tests.factories.sign_in_with_verified_device: what client_for does for staff."""
    sign_in_with_verified_device(client, support)
    assert client.get("/support-queue/").status_code == 200


# --- Customers: optional ---------------------------------------------------------------------------


def test_customer_without_two_factor_signs_in_with_the_password_only(customer, client):
    response = _sign_in(client, customer)
    assert response["Location"] == reverse("accounts:overview")
    assert client.get("/").status_code == 200
    page = client.get(SECURITY).content.decode()
    assert "You sign in with your password only." in page and f'href="{SET_UP}"' in page
    nav = client.get("/").content.decode()
    assert f'href="{SECURITY}"' in nav and ">Security<" in nav


def test_customer_turns_two_factor_on_then_signs_in_with_a_code_then_turns_it_off(customer, client):
    _sign_in(client, customer)
    page = client.get(SET_UP).content.decode()
    assert "Set up the app now to continue" not in page and f'href="{SECURITY}"' in page  # a choice: Cancel
    response = client.post(SET_UP, {"otp": totp_code_for_secret(_shown_secret(page))})
    assert response["Location"] == SECURITY
    assert "You sign in with your password and a code" in client.get(SECURITY).content.decode()
    assert client.get(SET_UP)["Location"] == SECURITY  # already on
    client.post(reverse("accounts:logout"))

    assert _sign_in(client, customer)["Location"] == f"{VERIFY}?next=%2F"
    assert client.get("/invoices/")["Location"].startswith(VERIFY)
    device = TOTPDevice.objects.get(user=customer, confirmed=True)
    assert client.post(VERIFY, {"otp": totp_code(device)})["Location"] == "/"

    # Turning it off needs a current code.
    refused = client.post(SECURITY, {"otp": "000000" if totp_code(device) != "000000" else "111111"})
    assert "The code is not correct" in _errors(refused.content.decode())
    assert TOTPDevice.objects.filter(user=customer).exists()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    off = client.post(SECURITY, {"otp": totp_code(device)})
    assert off["Location"] == SECURITY
    assert not TOTPDevice.objects.filter(user=customer).exists()
    assert client.get("/").status_code == 200
    client.post(reverse("accounts:logout"))
    assert _sign_in(client, customer)["Location"] == reverse("accounts:overview")


def test_new_pages_for_anonymous_and_every_role(world, client_for, client):
    for url in (VERIFY, SET_UP, SECURITY):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"{SIGN_IN}?next="), url
    for key in ("wd_admin", "ead_ro", "eai_partner", "bp1_reader", "bp1_invmgr", "outsider"):
        c = client_for(world.users[key])
        assert c.get(SECURITY).status_code == 200, key
        assert c.get(SET_UP).status_code == 200, key  # their own set-up, nobody else's
        assert c.get(VERIFY)["Location"] == "/", key  # nothing pending
        assert c.post(SECURITY, {"otp": "123456"}).status_code == 403, key  # nothing to turn off
    assert client_for(world.users["support"]).get(SET_UP)["Location"] == SECURITY


def test_inactive_user_cannot_reach_the_set_up(world, client):
    assert _sign_in(client, world.users["inactive"]).status_code == 200
    assert client.get(SET_UP)["Location"].startswith(SIGN_IN)


# --- The admin site ---------------------------------------------------------------------------------


def test_admin_site_refuses_an_unverified_staff_session(support, client):
    support.is_superuser = True
    support.save(update_fields=["is_superuser"])
    confirmed_totp_device(support)
    client.force_login(support)  # the password step only
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.get("/admin/accounts/user/")["Location"].startswith(VERIFY)


def test_admin_site_rule_itself_wants_a_verified_user(support):
    site = PortalAdminSite()
    request = RequestFactory().get("/admin/")
    request.user = support
    assert site.has_permission(request) is False  # no OTPMiddleware: not verified
    request.user.is_verified = lambda: False
    assert site.has_permission(request) is False
    request.user.is_verified = lambda: True
    assert site.has_permission(request) is True


def test_admin_site_opens_for_a_verified_staff_session_and_shows_no_secrets(support, client):
    support.is_superuser = True
    support.save(update_fields=["is_superuser"])
    device = sign_in_with_verified_device(client, support)
    assert client.get("/admin/").status_code == 200
    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert change.status_code == 200 and device.key not in change.content.decode()
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    # A lost phone: the device is removed, and the next sign-in sets up a new one.
    client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert client.get("/admin/")["Location"].startswith(SET_UP)


def test_admin_sign_in_form_goes_on_to_the_code_step(support, client):
    confirmed_totp_device(support)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": support.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/")["Location"] == f"{VERIFY}?next=%2Fadmin%2F"


# --- The API token endpoint --------------------------------------------------------------------------


def _token(api, user, **extra):
    return api.post(TOKEN, {"email": user.email, "password": PASSWORD, **extra}, format="json")


def test_token_for_a_customer_without_two_factor_needs_no_code(customer):
    response = _token(APIClient(), customer)
    assert response.status_code == 200 and response.json()["token"]


def test_token_for_a_user_with_two_factor_needs_a_valid_otp(customer):
    device = confirmed_totp_device(customer)
    api = APIClient()
    missing = _token(api, customer)
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "otp_required",
        "detail": "Enter the 6-digit code from your authenticator app.",
        "fields": {"otp": ["Enter the 6-digit code from your authenticator app."]},
    }
    wrong = _token(api, customer, otp="000000" if totp_code(device) != "000000" else "111111")
    assert wrong.status_code == 400 and wrong.json()["code"] == "otp_invalid"
    assert wrong.json()["fields"] == {"otp": [wrong.json()["detail"]]}
    throttled = _token(api, customer, otp=totp_code(device))
    assert throttled.status_code == 429 and throttled.json()["code"] == "otp_throttled"
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    ok = _token(api, customer, otp=totp_code(device))
    assert ok.status_code == 200 and ok.json()["token"]


def test_token_wrong_password_never_reaches_the_code(customer):
    confirmed_totp_device(customer)
    response = _token(APIClient(), customer, password="wrong-password", otp="123456")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert TOTPDevice.objects.get(user=customer).throttling_failure_count == 0


def test_token_for_staff_without_a_device_says_set_up_first(support):
    response = _token(APIClient(), support, otp="123456")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "two_factor_setup_required" and body["fields"] == {}
    assert "set it up" in body["detail"]
    staff = confirmed_totp_device(support)
    ok = _token(APIClient(), support, otp=totp_code(staff))
    assert ok.status_code == 200
    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {ok.json()['token']}")
    assert me.status_code == 200 and me.json()["is_support_staff"] is True


def test_token_refusal_in_dutch(customer):
    confirmed_totp_device(customer)
    response = APIClient().post(
        TOKEN, {"email": customer.email, "password": PASSWORD}, format="json", HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.json()["detail"] == "Voer de 6-cijferige code van uw authenticator-app in."


def test_a_token_call_is_not_held_by_a_pending_browser_session(support, client):
    device = confirmed_totp_device(support)
    token = _token(APIClient(), support, otp=totp_code(device)).json()["token"]
    _sign_in(client, support)  # the browser session waits at the code step
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    # Basic (or any other scheme) falls back to the session, so it is held.
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION="Basic eDp5").status_code == 403


def test_token_endpoint_documents_the_otp_field_and_its_refusals():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    body = schema["components"]["schemas"]["TokenRequestRequest"]
    assert "otp" in body["properties"] and "otp" not in body.get("required", [])
    assert "otp_required" in body["properties"]["otp"]["description"]
    for status, code in (("400", "otp_invalid"), ("403", "two_factor_setup_required"), ("429", "otp_throttled")):
        response = operation["responses"][status]
        assert code in response["description"]
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


# --- Lock-out around it ---------------------------------------------------------------------------------


def test_lock_out_still_applies_to_staff_and_the_code_step_is_never_reached(support, client, settings):
    confirmed_totp_device(support)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, support, password="wrong").status_code == 200
    assert _sign_in(client, support, password="wrong").status_code == 429
    locked = _sign_in(client, support)
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert client.get(VERIFY)["Location"].startswith(SIGN_IN)
    # Another address is not locked: the password step passes and the code step follows.
    assert _sign_in(client, support, address="198.51.100.9")["Location"].startswith(VERIFY)


def test_per_address_limit_locks_staff_out_too(support, client, settings):
    for n in range(settings.AXES_IP_FAILURE_LIMIT):
        _sign_in(client, UserFactory.build(email=f"victim{n}@spray.example"), password="Summer2026!")
    assert _sign_in(client, support).status_code == 429
    assert "_auth_user_id" not in client.session
    assert _sign_in(client, support, address="198.51.100.9")["Location"].startswith(SET_UP)


def test_lock_out_of_the_token_endpoint_still_answers_in_the_error_shape(customer, settings):
    confirmed_totp_device(customer)
    api = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _token(api, customer, password="wrong")
    locked = _token(api, customer, otp="123456")
    assert locked.status_code == 429 and locked.json()["code"] == "locked_out"
