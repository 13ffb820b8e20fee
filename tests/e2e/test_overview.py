"""Browser journeys of the overview and Pay now, at desktop and phone (390 px) sizes, in
English and Dutch: Jan Smit signs in and lands on the overview, which says what his
account owes and with which card; Pay now with that card is declined (insufficient
funds: the guidance for that code, in the invoice's context); "try another card" opens
the card form, where the new card is also made the card for automatic payments; the
button carries the amount; paid, and the overview says so."""

import pytest

from billing_portal.money import format_money
from tests.e2e.browsing import enter_card
from tests.e2e.layout import nothing_overflows
from tests.e2e.signing_in import sign_in_through_form
from tests.payments.conftest import make_invoice

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "en": {
        "owe": "What you owe",
        "balance": "Balance due",
        "declined": "insufficient funds",
        "guidance": "Use another card, or contact your bank",
        "invoices": "Invoices",
        "pay": "Pay {amount}",
        "paid": "is paid",
        "active": "is now the active payment method",
        "nothing": "every invoice is paid",
    },
    "nl": {
        "owe": "Wat u verschuldigd bent",
        "balance": "Openstaand saldo",
        "declined": "saldo op de kaart is onvoldoende",
        "guidance": "Gebruik een andere kaart, of neem contact op met uw bank",
        "invoices": "Facturen",
        "pay": "{amount} betalen",
        "paid": "is betaald",
        "active": "is nu de actieve betalingsmethode",
        "nothing": "alle facturen zijn betaald",
    },
}


def _jan(language):
    """Jan Smit's web-direct account with its demo card (insufficient funds) and a due invoice."""
    from accounts import demo as accounts_demo
    from payments import demo as payments_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    user = demo.users["wd_individual"]
    user.language = language
    user.save(update_fields=["language"])
    return demo, make_invoice(demo.profiles["individual"], total="112.54")


def test_overview_then_pay_now_declined_another_card_made_active_and_paid(sized_page, language):
    from payments import services
    from payments.models import PaymentMethod

    demo, invoice = _jan(language)
    text = TEXT[language]
    profile = demo.profiles["individual"]
    amount = format_money(invoice.amount_due, "EUR", language)
    page = sized_page
    sign_in_through_form(page, "jan@individual.example")

    # The overview: what the account owes, the invoice to pay and the card that pays it.
    page.wait_for_selector("#owe")
    scope = page.locator(f"#scope-{profile.pk}")
    assert text["owe"] in page.locator("#owe h2").inner_text()
    facts = scope.inner_text()
    assert text["balance"] in facts and amount in facts and invoice.number in facts
    assert "Visa •••• 9995" in scope.locator("[data-field=payment-method]").inner_text()
    nothing_overflows(page, "the overview")
    scope.locator(f"#pay-now-{profile.pk}").click()

    # Pay now with the active card: declined, explained for this code, in the invoice's context.
    page.wait_for_url(f"**/invoices/{invoice.pk}/pay/")
    assert page.locator("#pay-now").inner_text() == text["pay"].format(amount=amount)
    page.click("#pay-now")
    decline = page.locator("#decline")
    decline.wait_for()
    assert text["declined"] in decline.inner_text() and text["guidance"] in decline.inner_text()
    assert invoice.number in page.locator(".breadcrumbs").inner_text()
    assert page.locator("nav.mainnav a[aria-current=page]").inner_text() == text["invoices"]
    nothing_overflows(page, "the declined payment")

    # Try another card: the card form, made the card for automatic payments in the same step.
    page.click("#decline-another-card")
    page.wait_for_url(f"**/invoices/{invoice.pk}/pay/add-card/")
    page.check("#id_make_active")
    assert page.locator("#id_subscription_id").input_value() == str(demo.subscriptions["individual"].subscription_id)
    nothing_overflows(page, "the card form")
    page.click("main button[type=submit]")
    enter_card(page, "4242 4242 4242 4242", holder="Jan Smit")
    page.wait_for_url(f"**/invoices/{invoice.pk}/pay/?method=*")
    assert text["active"] in page.locator(".messages").inner_text()
    assert "4242" in page.locator("input[name=method]:checked").locator("xpath=..").inner_text()
    assert page.locator("#pay-now").inner_text() == text["pay"].format(amount=amount)
    page.click("#pay-now")
    page.wait_for_url(f"**/invoices/{invoice.pk}/")
    assert text["paid"] in page.locator(".messages").inner_text()

    invoice.refresh_from_db()
    new = PaymentMethod.objects.get(profile=profile, last4="4242")
    assert invoice.status == "paid" and services.scope_active_card(profile) == new

    # Back on the overview: nothing owed, the new card pays automatically.
    page.click("a.brand")
    scope = page.locator(f"#scope-{profile.pk}")
    scope.wait_for()
    assert text["nothing"] in scope.inner_text()
    assert "Visa •••• 4242" in scope.locator("[data-field=payment-method]").inner_text()
    assert amount in scope.locator("[data-field=last-payment]").inner_text()
    nothing_overflows(page, "the overview after paying")


def test_overview_of_an_enrollment_and_a_customer_agreement(sized_page, language):
    """The EA admin reads the enrollment's PO number and its window; the owner of a
    customer agreement one card per billing profile, one of them without invoices."""
    from accounts import demo as accounts_demo
    from accounts.models import User
    from invoices.models import Invoice, InvoiceRevision
    from payments import demo as payments_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    User.objects.update(language=language)
    northwind = make_invoice(demo.profiles["northwind"], total="154.97")
    Invoice.objects.filter(pk=northwind.pk).update(notified_at=northwind.created_at)
    # The PO number the billing run prints on an enrollment's invoice (PO-6: the enrollment number).
    InvoiceRevision.objects.filter(invoice=northwind).update(po_number="87654321")
    make_invoice(demo.profiles["woodgrove_nl"], total="130.63")
    page = sized_page

    sign_in_through_form(page, "ea.admin@northwind.example")
    scope = page.locator(f"#scope-{demo.profiles['northwind'].pk}")
    scope.wait_for()
    assert scope.locator("[data-field=po-window]").get_attribute("data-state") == "open"
    assert "87654321" in scope.locator("[data-field=po-number]").inner_text()
    assert northwind.payment_reference in scope.inner_text()
    assert scope.locator("a.button-primary").count() == 0  # enrollments pay by bank transfer
    nothing_overflows(page, "the enrollment's overview")

    page.context.clear_cookies()
    sign_in_through_form(page, "ca.owner@woodgrove.example")
    nl = page.locator(f"#scope-{demo.profiles['woodgrove_nl'].pk}")
    de = page.locator(f"#scope-{demo.profiles['woodgrove_de'].pk}")
    nl.wait_for()
    assert nl.locator(f"#pay-now-{demo.profiles['woodgrove_nl'].pk}").is_visible()
    assert de.locator("[data-field=no-invoices]").is_visible()
    assert "4242" in de.locator("[data-field=payment-method]").inner_text()
    nothing_overflows(page, "the customer agreement's overview")
