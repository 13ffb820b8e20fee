"""Browser journey of the payment methods (PM-4, PM-6, PM-7) as the demo account admin."""

import io
import logging

import pytest
from django.core.management import call_command

from tests.e2e.browsing import enter_card
from tests.payments.conftest import luhn_hits

pytestmark = pytest.mark.django_db(transaction=True)


def _active_row(page):
    return page.locator("#payment-methods tbody tr", has=page.locator(".active-marker"))


def test_pm_4_6_7_account_admin_manages_cards_in_the_browser(page, sign_in, caplog):
    caplog.set_level(logging.INFO)
    from accounts import demo as accounts_demo
    from payments import demo as payments_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    sign_in("wd.admin@contoso.example")

    # Subscriptions > Contoso Production > Payment methods
    page.click("nav.mainnav >> text=Subscriptions")
    page.click("text=Contoso Production")
    page.click("nav.side-menu >> text=Payment methods")
    assert "4242" in _active_row(page).inner_text()

    # "+" with "use this card as my active payment method" ticked, through the gateway page.
    page.click("#add-card")
    assert page.is_checked("input[name=make_active]")
    page.click("main button[type=submit]")
    enter_card(page, "3782 822463 10005", cvc="1234", expiry=("10", "2032"))
    page.wait_for_selector("text=was added")
    assert "0005" in _active_row(page).inner_text()
    # The active marker moved on the other subscription that shared the old card too.
    staging = demo.subscriptions["contoso_staging"]
    page.goto(f"/subscriptions/{staging.subscription_id}/payment-methods/")
    assert "0005" in _active_row(page).inner_text()
    assert "Contoso Production" in _active_row(page).inner_text()
    campaigns = demo.subscriptions["contoso_campaigns"]
    page.goto(f"/subscriptions/{campaigns.subscription_id}/payment-methods/")
    assert "4444" in _active_row(page).inner_text()

    # Delete the card that is still in use: refused, listing the subscriptions.
    page.goto(f"/subscriptions/{staging.subscription_id}/payment-methods/")
    page.locator("#payment-methods tr[data-card='0005'] input[type=radio]").check()
    page.click("button[value=delete]")
    refusal = page.locator("#in-use").inner_text()
    assert "Contoso Production" in refusal and "Contoso Staging" in refusal
    assert page.locator("text=Yes, delete the card").count() == 0  # refused: nothing to confirm
    page.click("#back-to-methods")
    assert page.url.endswith(f"/subscriptions/{staging.subscription_id}/payment-methods/")

    # A card the bank declines: the reason and the PM-7 guidance.
    page.goto(f"/subscriptions/{staging.subscription_id}/payment-methods/add/")
    page.click("main button[type=submit]")
    enter_card(page, "4000 0000 0000 0002", expiry=("10", "2032"))
    decline = page.locator(".decline").inner_text()
    assert "declined" in decline
    assert "Are international transactions enabled on your card?" in decline
    assert "Are recurring payments enabled on your card?" in decline

    # Nothing in the database or the logs looks like a card number.
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert "tok_" in dump.getvalue()
    assert luhn_hits(dump.getvalue()) == []
    assert luhn_hits(caplog.text) == []
