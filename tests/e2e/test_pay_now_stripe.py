"""Browser journey of Pay now through the Stripe adapter against localstripe, at desktop
and phone sizes: a new card entered in Stripe Elements (localstripe's stand-in of
Stripe.js; a decline shown on the card page with the PM-7 guidance, then a card that
asks for 3-D Secure), the payment confirmed in the bank's check, the invoice Paid."""

import pytest

from tests.e2e.layout import nothing_overflows
from tests.payments.conftest import make_invoice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stripe_page(new_page, stripe_settings, size):
    stripe_settings.PAYMENT_GATEWAY = "stripe"
    return new_page(size)


def _enter_card(page, number):
    """Type the card into localstripe's Elements fields (Stripe's own fields in production)."""
    page.fill("#holder-name", "Ava de Vries")
    for field, value in (("number", number), ("exp_month", "11"), ("exp_year", "31"), ("cvc", "123")):
        page.fill(f"#card-element input[placeholder={field}]", value)
    page.click("#stripe-save")


def test_pay_2_3_4_pay_now_with_stripe_elements_and_3d_secure(stripe_page):
    from accounts import demo as accounts_demo
    from accounts.demo import DEMO_PASSWORD
    from payments.models import Payment, PaymentMethod

    demo = accounts_demo.seed()
    invoice = make_invoice(demo.profiles["contoso"], total="242.00")
    page = stripe_page
    page.goto("/sign-in/")
    page.fill("input[name=username]", "wd.admin@contoso.example")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/sign-in/" not in url)

    page.goto(f"/invoices/{invoice.pk}/pay/")
    page.click("#pay-add-card")
    page.click("main button[type=submit]")
    page.wait_for_url("**/stripe/setup-intents/seti_*/")
    page.wait_for_selector("#card-element input[placeholder=number]")
    nothing_overflows(page, "the card page")

    # The bank declines the first card: said on the card page, with the PM-7 guidance.
    _enter_card(page, "4000000000000002")
    errors = page.locator("#card-errors")
    errors.wait_for(state="visible")
    assert "Your bank declined the card." in errors.inner_text()
    assert "Are international transactions enabled on your card?" in errors.inner_text()

    # A card that asks for 3-D Secure when it is saved.
    _enter_card(page, "4000002760003184")
    page.click("text=Complete authentication")
    page.wait_for_url(f"**/invoices/{invoice.pk}/pay/?method=*")
    card = PaymentMethod.objects.get(gateway="stripe")
    assert (card.last4, card.holder_name) == ("3184", "Ava de Vries")
    assert page.locator("input[name=method]:checked").get_attribute("value") == str(card.pk)

    page.click("#pay-now")
    page.wait_for_url("**/stripe/payment-intents/pi_*/")
    nothing_overflows(page, "the authentication page")
    page.click("text=Complete authentication")
    page.wait_for_url(f"**/invoices/{invoice.pk}/")
    assert "is paid" in page.locator(".messages").inner_text()
    payment = Payment.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    assert (payment.status, payment.gateway, invoice.status) == ("succeeded", "stripe", "paid")
