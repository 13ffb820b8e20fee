"""The portal never stores or logs a card number: after the card flows, a dump of the
whole database and everything logged hold no 13-19 digit sequence passing Luhn."""

import io
import logging

import pytest
from django.core.management import call_command
from django.test import Client

from payments.sandbox import TEST_CARDS, SandboxGateway

from .conftest import add_card_web, enter_card, luhn_hits, subscription_add_url

pytestmark = pytest.mark.django_db


def test_scanner_finds_a_card_number():
    assert luhn_hits("x 4242424242424242 y") == ["4242424242424242"]
    assert luhn_hits("order 1234567890123 at 2026-11-22") == [] or all(len(h) >= 13 for h in luhn_hits("1234567890123"))


def test_no_card_number_in_database_dump_or_logs_after_card_flows(
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


def test_scanner_ignores_digit_runs_inside_hex_keys_but_not_quoted_numbers():
    assert luhn_hits('"key": "ab1930073869700f"') == []
    assert luhn_hits('"number": "4000056655665556"') == ["4000056655665556"]
    assert luhn_hits("4111111111111111") == ["4111111111111111"]
