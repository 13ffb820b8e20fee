"""The portal never stores, logs or mails a card number: after the card flows, a dump of
the whole database, everything logged and every e-mail sent hold no 13-19 digit
sequence passing Luhn. (tests/conftest.py scans every e-mail of the whole session too.)"""

import io
import logging

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from payments.sandbox import TEST_CARDS, SandboxGateway
from tests.conftest import SENT_MAIL, mail_text

from .conftest import add_card_web, enter_card, luhn_hits, subscription_add_url

pytestmark = pytest.mark.django_db


def test_scanner_finds_a_card_number():
    assert luhn_hits("x 4242424242424242 y") == ["4242424242424242"]
    assert luhn_hits("order 1234567890123 at 2026-11-22") == [] or all(len(h) >= 13 for h in luhn_hits("1234567890123"))


def test_no_card_number_in_database_dump_logs_or_mail_after_card_flows(
    cards, client_for, api_for, caplog, settings, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    admin = cards.users["wd_admin"]
    client = client_for(admin)
    add = subscription_add_url(cards.subscriptions["contoso_prod"])
    # Every test card through the web flow (accepted and declined), plus bad entries.
    for number in TEST_CARDS:
        cvc = "1234" if number.startswith("37") else "123"
        add_card_web(client, add, number, cvc=cvc)
    response = client.post(add, {"make_active": "on"})
    enter_card(client, response["Location"], "4242424242424241", follow=False)  # fails Luhn
    enter_card(client, response["Location"], "4242424242424242", cvc="12", follow=False)  # bad CVC
    enter_card(client, response["Location"], "4242 4242 4242 4242", exp_year=2001, follow=False)  # expired
    # The customer-agreement flow and the API flow.
    owner_client = client_for(cards.users["ca_owner"])
    from django.urls import reverse

    r = owner_client.post(reverse("payments:profile_add_card", args=[cards.profiles["woodgrove_de"].pk]), {})
    enter_card(owner_client, r["Location"], "5555555555554444")
    setup = (
        api_for(admin)
        .post(
            "/api/v1/card-setups/",
            {"subscription_id": str(cards.subscriptions["contoso_staging"].subscription_id)},
            format="json",
        )
        .json()
    )
    enter_card(client, setup["gateway_url"].split("testserver", 1)[-1], "4000000000009995", follow=False)
    api_for(admin).post(f"/api/v1/card-setups/{setup['id']}/complete/")

    # A crash while the gateway page handles a card, with DEBUG's technical error page on:
    # the posted number and CVC are masked in the page and absent from the log.
    settings.DEBUG = True

    def boom(self, *args, **kwargs):
        raise RuntimeError("processor exploded")

    monkeypatch.setattr(SandboxGateway, "submit_card", boom)
    r = client.post(add, {"make_active": "on"})
    crash_client = Client(raise_request_exception=False)
    crash_client.force_login(admin)
    crashed = crash_client.post(
        r["Location"],
        {"number": "4242424242424242", "exp_month": "12", "exp_year": "2031", "cvc": "987", "holder_name": "X"},
    )
    assert crashed.status_code == 500
    page = crashed.content.decode()
    # (The technical page also prints object ids and thread ids, 15-digit numbers that
    # may pass Luhn by chance: it is checked for the card numbers themselves.)
    assert not [n for n in TEST_CARDS if n in page.replace(" ", "")]
    assert "processor exploded" in page  # it is the technical error page
    assert "&#x27;987&#x27;" not in page and "'987'" not in page

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    text = dump.getvalue()
    assert "tok_" in text  # the dump did capture the cards
    assert luhn_hits(text) == []
    logged = "\n".join(record.getMessage() + " " + str(record.args) for record in caplog.records) + caplog.text
    assert "processor exploded" in logged  # the crash was logged ...
    assert luhn_hits(logged) == []  # ... without the card number
    mailed = "\n".join(mail_text(m) for m in [*SENT_MAIL, *mail.outbox])
    assert luhn_hits(mailed) == []  # nor any e-mail sent so far in the session


def test_scanner_ignores_digit_runs_inside_hex_keys_but_not_quoted_numbers():
    assert luhn_hits('"key": "ab1930073869700f"') == []
    assert luhn_hits('"number": "4000056655665556"') == ["4000056655665556"]
    assert luhn_hits("4111111111111111") == ["4111111111111111"]


# --- Card numbers typed or posted into fields the portal keeps or echoes -----------------

CARD = "4242424242424242"


def _no_card(text: str):
    assert CARD not in text.replace(" ", "").replace("-", "")
    assert luhn_hits(text.replace(" ", "").replace("-", "")) == []


def test_api_invalid_country_is_refused_without_echoing_the_value(cards, api_for):
    api = api_for(cards.users["wd_admin"])
    sub = str(cards.subscriptions["contoso_prod"].subscription_id)
    response = api.post("/api/v1/card-setups/", {"subscription_id": sub, "country": CARD}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["country"] == ["Select one of the available choices."]
    _no_card(response.content.decode())
    method = cards.profiles["contoso"].payment_methods.first()
    response = api.patch(f"/api/v1/payment-methods/{method.pk}/", {"country": CARD}, format="json")
    assert response.status_code == 400
    _no_card(response.content.decode())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("holder_name", "4242 4242 4242 4242"),
        ("address_line1", "Main street 1, 4242-4242-4242-4242"),
        ("city", CARD),
    ],
)
def test_api_card_number_in_a_kept_field_is_refused_and_not_stored(cards, api_for, field, value):
    from payments.models import PaymentMethod, PaymentMethodEvent

    api = api_for(cards.users["wd_admin"])
    method = cards.profiles["contoso"].payment_methods.first()
    events = PaymentMethodEvent.objects.count()
    response = api.patch(f"/api/v1/payment-methods/{method.pk}/", {field: value}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "card_number_refused"
    assert field in response.json()["fields"]
    _no_card(response.content.decode())
    assert getattr(PaymentMethod.objects.get(pk=method.pk), field) != value
    assert PaymentMethodEvent.objects.count() == events
    sub = str(cards.subscriptions["contoso_prod"].subscription_id)
    if field != "holder_name":
        response = api.post("/api/v1/card-setups/", {"subscription_id": sub, field: value}, format="json")
        assert response.status_code == 400 and response.json()["code"] == "card_number_refused"


def test_web_forms_refuse_a_card_number_and_do_not_show_it_again(cards, client_for):
    from django.urls import reverse

    from payments.models import CardSetup

    client = client_for(cards.users["wd_admin"])
    add = subscription_add_url(cards.subscriptions["contoso_prod"])
    page = client.post(add, {"make_active": "on", "address_line1": "4242 4242 4242 4242", "country": CARD})
    assert page.status_code == 200 and not CardSetup.objects.filter(address_line1__contains="4242").exists()
    text = page.content.decode()
    assert "Never enter a card number here." in text and "Select one of the available choices." in text
    _no_card(text)
    method = cards.profiles["contoso"].payment_methods.first()
    page = client.post(
        reverse("payments:method_edit", args=[method.pk]),
        {"holder_name": CARD, "exp_month": method.exp_month, "exp_year": method.exp_year},
    )
    assert page.status_code == 200 and "Never enter a card number here." in page.content.decode()
    _no_card(page.content.decode())
    method.refresh_from_db()
    assert method.holder_name != CARD


def test_gateway_page_refuses_a_card_number_as_the_holder_name(cards, client_for):
    from payments.models import SandboxCard

    client = client_for(cards.users["wd_admin"])
    response = client.post(subscription_add_url(cards.subscriptions["contoso_prod"]), {"make_active": "on"})
    cards_before = SandboxCard.objects.count()
    page = enter_card(client, response["Location"], CARD, holder="4242 4242 4242 4242", follow=False)
    assert page.status_code == 400 and "Never enter a card number here." in page.content.decode()
    _no_card(page.content.decode())
    assert SandboxCard.objects.count() == cards_before


def test_idempotency_fingerprint_is_keyed_not_a_plain_hash_of_the_body(cards, api_for):
    import hashlib
    import json

    from payments.models import IdempotencyRecord

    from .conftest import make_invoice

    invoice = make_invoice(cards.profiles["contoso"])
    body = {"payment_method": 0, "number": CARD}
    api_for(cards.users["wd_admin"]).post(
        f"/api/v1/invoices/{invoice.pk}/pay/", body, format="json", HTTP_IDEMPOTENCY_KEY="fp-1"
    )
    record = IdempotencyRecord.objects.get(key="fp-1")
    plain = hashlib.sha256(f"POST {invoice.pk} {json.dumps(body, sort_keys=True)}".encode()).hexdigest()
    assert record.fingerprint != plain
    _no_card(json.dumps(record.body))
