"""Sign-in limits: per e-mail and address (existing) and per address across e-mails
(password spraying)."""

from django.urls import reverse

from tests.factories import UserFactory


def _sign_in(client, email, password, address="203.0.113.7"):
    return client.post(reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=address)


def test_failures_for_many_e_mails_from_one_address_lock_the_address_out(db, client, settings):
    assert settings.AXES_IP_FAILURE_LIMIT == 20
    real = UserFactory(email="real@spray.example")
    real.set_password("secret-pass-123")
    real.save()
    answers = [_sign_in(client, f"victim{n}@spray.example", "Summer2026!").status_code for n in range(20)]
    assert answers[:19] == [200] * 19  # each e-mail failed once only: far below the per-e-mail limit
    assert answers[19] == 429
    # The address is locked for every e-mail, even with the right password ...
    locked = _sign_in(client, real.email, "secret-pass-123")
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    # ... and only that address.
    assert _sign_in(client, real.email, "secret-pass-123", address="198.51.100.9").status_code == 302


def test_signing_in_to_one_account_does_not_clear_the_address_count(db, client):
    own = UserFactory(email="own@spray.example")
    own.set_password("secret-pass-123")
    own.save()
    for n in range(15):
        assert _sign_in(client, f"victim{n}@spray.example", "wrong-pass").status_code == 200
    assert _sign_in(client, own.email, "secret-pass-123").status_code == 302
    client.logout()
    answers = [_sign_in(client, f"other{n}@spray.example", "wrong-pass").status_code for n in range(5)]
    assert answers[-1] == 429


def test_lock_out_page_links_back_to_sign_in(db, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = _sign_in(client, "someone@spray.example", "wrong-pass")
    assert locked.status_code == 429
    html = locked.content.decode()
    assert f'href="{reverse("accounts:login")}"' in html and "Back to sign-in" in html
    client.cookies["portal_language"] = "nl"
    assert "Terug naar aanmelden" in _sign_in(client, "someone@spray.example", "wrong-pass").content.decode()
