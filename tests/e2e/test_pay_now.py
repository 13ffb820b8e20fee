"""Browser journey of Pay now (PAY-2..PAY-4, PM-7) as the demo billing admin."""

import datetime as dt

import pytest

from tests.e2e.browsing import enter_card
from tests.payments.conftest import make_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _row(page, number):
    return page.locator("table tbody tr", has=page.locator(f"text={number}"))


def test_pay_2_3_4_pay_a_past_due_invoice_with_a_new_card_then_a_decline_in_dutch(page, sign_in):
    from accounts import demo as accounts_demo
    from billing_portal import clock
    from payments import demo as payments_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    today = clock.today()
    past_due = make_invoice(
        demo.profiles["contoso"], status="past_due", issue_date=today - dt.timedelta(days=45), total="242.00"
    )
    due = make_invoice(demo.profiles["contoso"], status="due", total="99.95")

    sign_in("wd.admin@contoso.example")
    page.click("nav.mainnav >> text=Invoices")
    row = _row(page, past_due.number)
    assert "Past due" in row.inner_text()
    row.locator("text=Pay now").click()

    # Select a payment method: a new card, through the gateway's page, without leaving the flow.
    assert page.locator("h2", has_text="Select a payment method").is_visible()
    page.click("#pay-add-card")
    page.click("main button[type=submit]")
    enter_card(page, "3782 822463 10005", cvc="4321")
    page.wait_for_url(f"**/invoices/{past_due.pk}/pay/?method=*")
    assert page.locator("input[name=method]:checked").locator("xpath=..").inner_text().count("0005") == 1
    page.click("#pay-now")
    page.wait_for_url(f"**/invoices/{past_due.pk}/")
    page.click("nav.mainnav >> text=Invoices")
    assert "Paid" in _row(page, past_due.number).inner_text()

    # In Dutch: another invoice, a card the bank declines.
    page.select_option("#language-select", "nl")
    page.click("form.language-switch button")
    page.click("nav.mainnav >> text=Facturen")
    _row(page, due.number).locator("a.button-primary").click()
    page.click("#pay-add-card")
    page.click("main button[type=submit]")
    enter_card(page, "4000 0000 0000 9995")
    page.wait_for_url(f"**/invoices/{due.pk}/pay/?method=*")
    page.click("#pay-now")
    decline = page.locator(".decline").inner_text()
    assert "onvoldoende" in decline
    assert "Gebruik een andere kaart, of neem contact op met uw bank" in decline
    due.refresh_from_db()
    assert due.status == "due"
