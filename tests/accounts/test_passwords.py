"""Self-service access (accounts.self_service): a forgotten password reset by e-mail (the
request never tells whether an address has an account; the link is made when the
e-mail is sent, works for an hour and once; requests limited like sign-in), changing
the password (the current one, other sessions signed out, a confirmation e-mail), the
profile (name, language), and every page as anonymous and with two-factor pending."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import self_service
from notifications.models import Notification
from tests.factories import UserFactory, confirmed_totp_device

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"
NEW_PASSWORD = "Tulip-harbour-2031"
SIGN_IN = reverse("accounts:login")
RESET = reverse("accounts:password_reset")
SENT = reverse("accounts:password_reset_sent")
CHANGE = reverse("accounts:password_change")
PROFILE = reverse("accounts:user_profile")


def _request_reset(client, email, address="203.0.113.7"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=address)


def _reset_link(message) -> str:
    return re.search(r"http://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)", message.body).group(1)


def _errors(response) -> str:
    return " ".join(re.findall(r'class="error" role="alert">([^<]+)<', response.content.decode()))


def _signs_in(user, password) -> bool:
    return Client().post(SIGN_IN, {"username": user.email, "password": password}).status_code == 302


@pytest.fixture
def customer(world):
    return world.users["ca_owner"]


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Run the on-commit work (the send task, eager) of what the block does."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


# --- Asking for a link ----------------------------------------------------------------------------


def test_reset_request_never_reveals_whether_the_address_has_an_account(world, customer, client, mailed):
    answers = {}
    for label, email in (
        ("known", customer.email.upper()),
        ("unknown", "nobody@world.example"),
        ("inactive", world.users["inactive"].email),
    ):
        response = mailed(lambda email=email: _request_reset(client, email))
        answers[label] = (response.status_code, response["Location"])
    assert set(answers.values()) == {(302, SENT)}
    page = client.get(SENT).content.decode()
    assert "If an account has this e-mail address, we have sent it a link" in page
    assert [m.to for m in mail.outbox] == [[customer.email]]
    assert Notification.objects.filter(kind="password_reset").count() == 1


def test_reset_email_is_a_notification_whose_link_is_stored_nowhere(customer, client, mailed):
    mailed(lambda: _request_reset(client, customer.email))
    (message,) = mail.outbox
    link = _reset_link(message)
    notification = Notification.objects.get(kind="password_reset")
    assert notification.context == {"user_id": customer.pk} and notification.status == "sent"
    assert notification.recipient == customer.email
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in str(notification.context) and token not in notification.dedupe_key
    assert message.subject == "Set a new password for the billing portal"
    assert "works for 60 minutes and once only" in message.body
    assert link in message.alternatives[0][0]


def test_reset_email_in_the_users_language(world, client, mailed):
    dutch = world.users["bp1_owner"]
    dutch.language = "nl"
    dutch.save(update_fields=["language"])
    mailed(lambda: _request_reset(client, dutch.email))
    assert mail.outbox[0].subject == "Stel een nieuw wachtwoord in voor het factureringsportal"


def test_reset_pages_in_dutch(client):
    client.cookies["portal_language"] = "nl"
    assert "Wachtwoord vergeten?" in client.get(SIGN_IN).content.decode()
    assert "Stuur de link" in client.get(RESET).content.decode()
    assert "Controleer uw e-mail" in client.get(SENT).content.decode()


# --- Using the link ---------------------------------------------------------------------------------


def _open_link(client, link):
    """Django moves the token from the address into the session: follow that redirect."""
    first = client.get(link)
    assert first.status_code == 302 and first["Location"].endswith("/set-password/")
    return first["Location"]


def test_link_sets_a_new_password_with_djangos_validators_once(customer, client, mailed):
    mailed(lambda: _request_reset(client, customer.email))
    link = _reset_link(mail.outbox[0])
    form_url = _open_link(client, link)
    form = client.get(form_url)
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    assert "at least 8 characters" in form.content.decode()  # the rules, as plain text
    weak = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert "This password is too common." in _errors(weak) and "entirely numeric" in _errors(weak)
    short = client.post(form_url, {"new_password1": "Ab1", "new_password2": "Ab1"})
    assert "This password is too short. It must contain at least 8 characters." in _errors(short)
    mail.outbox.clear()
    done = mailed(lambda: client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}))
    assert done.status_code == 302 and done["Location"] == SIGN_IN
    assert "Your password was changed. Sign in with the new password." in client.get(SIGN_IN).content.decode()
    assert _signs_in(customer, NEW_PASSWORD) and not _signs_in(customer, PASSWORD)
    (confirmation,) = mail.outbox
    assert confirmation.subject == "Your password of the billing portal was changed"
    assert "set anew with a link from an e-mail" in confirmation.body
    # Used once: the same link (in a new browser too) no longer works.
    again = Client().get(link)
    assert again.status_code == 200 and "This link no longer works" in again.content.decode()


def test_link_expires_after_an_hour(customer, client, monkeypatch, mailed):
    mailed(lambda: _request_reset(client, customer.email))
    link = _reset_link(mail.outbox[0])
    made = default_token_generator._now()
    monkeypatch.setattr(default_token_generator, "_now", lambda: made + timedelta(minutes=59))
    assert Client().get(link).status_code == 302
    monkeypatch.setattr(default_token_generator, "_now", lambda: made + timedelta(minutes=61))
    expired = Client().get(link)
    assert expired.status_code == 200 and "This link no longer works" in expired.content.decode()


def test_signing_in_spends_a_link(customer, client, mailed):
    mailed(lambda: _request_reset(client, customer.email))
    link = _reset_link(mail.outbox[0])
    assert _signs_in(customer, PASSWORD)  # remembered the password after all
    assert "This link no longer works" in Client().get(link).content.decode()


def test_reset_signs_every_session_out(customer, client, client_for, mailed):
    other = client_for(customer)
    assert other.get(PROFILE).status_code == 200
    mailed(lambda: _request_reset(client, customer.email))
    form_url = _open_link(client, _reset_link(mail.outbox[0]))
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert other.get(PROFILE)["Location"].startswith(SIGN_IN)


def test_a_bad_link_is_refused(customer, client):
    assert "This link no longer works" in client.get(f"/password-reset/MQ/{'x' * 20}/").content.decode()
    uid = reverse("accounts:password_reset_confirm", args=["zzz", "set-password"])
    assert "This link no longer works" in client.get(uid).content.decode()
    assert client.post(uid, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 200
    assert _signs_in(customer, PASSWORD)


# --- Limits like sign-in -----------------------------------------------------------------------------


def test_reset_requests_are_limited_per_address_and_email_like_sign_in(customer, client, settings, mailed):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert _request_reset(client, customer.email).status_code == 302
    refused = _request_reset(client, customer.email)
    assert refused.status_code == 429
    assert "Too many requests for a new password. Try again in 15 minutes." in refused.content.decode()
    # The same for an address without an account: the limit tells nothing either.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _request_reset(client, "nobody@world.example")
    assert _request_reset(client, "nobody@world.example").status_code == 429
    # Another address is not limited.
    assert _request_reset(client, customer.email, address="198.51.100.9").status_code == 302


def test_reset_requests_from_one_address_are_limited_whatever_the_emails(client, settings):
    for n in range(settings.AXES_IP_FAILURE_LIMIT):
        assert _request_reset(client, f"victim{n}@spray.example").status_code == 302
    assert _request_reset(client, "one-more@spray.example").status_code == 429


def test_one_account_gets_a_few_reset_emails_only_and_the_page_says_the_same(customer, mailed):
    for n in range(self_service.RESET_EMAILS_PER_USER + 2):
        response = mailed(lambda n=n: _request_reset(Client(), customer.email, address=f"198.51.100.{n}"))
        assert response["Location"] == SENT
    assert len(mail.outbox) == self_service.RESET_EMAILS_PER_USER


# --- Changing the password ---------------------------------------------------------------------------


def _change(client, current=PASSWORD, new=NEW_PASSWORD, **extra):
    return client.post(CHANGE, {"old_password": current, "new_password1": new, "new_password2": new}, **extra)


def test_change_needs_the_current_password_and_wrong_ones_count_towards_the_lock_out(customer, client, settings):
    client.force_login(customer)
    wrong = _change(client, current="not-it", REMOTE_ADDR="203.0.113.7")
    assert wrong.status_code == 200 and "This is not your current password." in _errors(wrong)
    assert AccessAttempt.objects.filter(username=customer.email).exists()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _change(client, current="not-it", REMOTE_ADDR="203.0.113.7")
    assert _change(client, REMOTE_ADDR="203.0.113.7").status_code == 429  # locked out, as sign-in is
    assert _signs_in(customer, PASSWORD)  # from another address: not locked out
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_change_uses_djangos_validators(customer, client):
    client.force_login(customer)
    weak = _change(client, new="password")
    assert "This password is too common." in _errors(weak)
    similar = _change(client, new="ca_owner@world")
    assert "too similar" in _errors(similar)
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_change_keeps_this_session_signs_the_others_out_and_emails(customer, client_for, mailed):
    this, other = client_for(customer), client_for(customer)
    done = mailed(lambda: _change(this))
    assert done.status_code == 302 and done["Location"] == CHANGE
    assert "Everywhere else you were signed in, you are now signed out." in this.get(CHANGE).content.decode()
    assert this.get(PROFILE).status_code == 200
    assert other.get(PROFILE)["Location"].startswith(SIGN_IN)
    (confirmation,) = mail.outbox
    assert confirmation.to == [customer.email]
    assert "changed on the password page" in confirmation.body and "/profile/api-tokens/" in confirmation.body
    assert _signs_in(customer, NEW_PASSWORD)


def test_change_keeps_the_verified_two_factor_session(world, client_for):
    support = world.users["support"]
    client = client_for(support)
    assert _change(client).status_code == 302
    assert client.get("/support-queue/").status_code == 200  # still past the code step


# --- The profile ------------------------------------------------------------------------------------------


def test_profile_changes_the_name_and_the_language(customer, client_for):
    client = client_for(customer)
    page = client.get(PROFILE).content.decode()
    assert customer.email in page and 'name="full_name"' in page
    saved = client.post(PROFILE, {"full_name": "  Femke   de Vries ", "language": "nl"})
    assert saved.status_code == 302
    customer.refresh_from_db()
    assert (customer.full_name, customer.language) == ("Femke de Vries", "nl")
    after = client.get(PROFILE).content.decode()
    assert "Uw profiel is opgeslagen." in after and '<html lang="nl">' in after


def test_profile_refuses_a_card_number_and_an_unknown_language(customer, client_for):
    client = client_for(customer)
    refused = client.post(PROFILE, {"full_name": "4111 1111 1111 1111", "language": "en"})
    assert "This looks like a card number" in _errors(refused) and "4111 1111 1111 1111" not in refused.content.decode()
    assert client.post(PROFILE, {"full_name": "X", "language": "fr"}).status_code == 200
    customer.refresh_from_db()
    assert customer.full_name != "X" and customer.language == "en"


def test_api_me_patch_changes_the_name_through_the_same_service(customer, api_for):
    response = api_for(customer).patch("/api/v1/me/", {"full_name": "Femke V."}, format="json")
    assert response.status_code == 200 and response.json()["full_name"] == "Femke V."
    refused = api_for(customer).patch("/api/v1/me/", {"full_name": "4111111111111111"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "card_number_refused"


# --- Links, and every page as anonymous and with two-factor pending ----------------------------------


def test_sign_in_page_and_user_menu_link_to_the_new_pages(customer, client, client_for):
    assert f'href="{RESET}"' in client.get(SIGN_IN).content.decode()
    menu = client_for(customer).get("/").content.decode()
    for url in (PROFILE, CHANGE, reverse("accounts:api_tokens"), reverse("accounts:security")):
        assert f'href="{url}"' in menu, url


def test_signed_in_pages_send_anonymous_visitors_to_sign_in(client):
    for url in (PROFILE, CHANGE):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302 and response["Location"].startswith(f"{SIGN_IN}?next="), url


def test_every_new_page_waits_for_a_pending_two_factor_step(customer, client, mailed):
    confirmed_totp_device(customer)
    client.post(SIGN_IN, {"username": customer.email, "password": PASSWORD})
    for url in (PROFILE, CHANGE, RESET, SENT, "/password-reset/MQ/x-y/"):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("accounts:two_factor_verify")), url
    assert APIClient().patch("/api/v1/me/", {"full_name": "x"}, format="json").status_code == 401
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD) and customer.full_name != "x"
    assert not mail.outbox


def test_another_user_cannot_change_someone_elses_profile_or_password(world, customer, client_for):
    """There are no ids in these pages: each changes the signed-in user only."""
    other = UserFactory(email="other@world.example")
    client = client_for(other)
    client.post(PROFILE, {"full_name": "Changed", "language": "nl"})
    _change(client)
    customer.refresh_from_db()
    assert customer.full_name != "Changed" and customer.language == "en" and customer.check_password(PASSWORD)
