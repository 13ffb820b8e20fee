"""Browser journey of the payment history, at desktop and phone sizes: the admin of
Contoso opens Payment history from the navigation, sees a paid and a declined payment
(stacked rows on the phone, nothing wider than the screen), downloads the receipt of the
paid one, and finds the same receipt in the Receipts block of the invoice's page."""

import pytest

from tests.e2e.browsing import follow_nav
from tests.e2e.layout import nothing_overflows
from tests.payments.conftest import INSUFFICIENT, give_card, make_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def test_payment_history_then_download_the_receipt(new_page, size, tmp_path):
    from accounts import demo as accounts_demo
    from accounts.demo import DEMO_PASSWORD
    from payments import demo as payments_demo
    from payments import services
    from payments.models import PaymentSource

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    contoso = demo.profiles["contoso"]
    paid_invoice = make_invoice(contoso, total="242.00")
    paid = services.invoice_pay(
        invoice=paid_invoice, payment_method=services.scope_active_card(contoso), source=PaymentSource.AUTOMATIC
    )
    declined_invoice = make_invoice(contoso, total="99.95")
    services.invoice_pay(
        invoice=declined_invoice,
        payment_method=give_card(demo, contoso, INSUFFICIENT, make_active=False),
        source=PaymentSource.AUTOMATIC,
    )
    receipt = paid.receipt

    page = new_page(size, accept_downloads=True)
    page.goto("/sign-in/")
    page.fill("input[name=username]", "wd.admin@contoso.example")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/sign-in/" not in url)

    follow_nav(page, "Payment history")
    page.wait_for_url("**/payments/")
    assert page.locator("h1").inner_text() == "Payment history"
    rows = page.locator("#payment-history tbody tr")
    assert rows.count() == 2
    newest, oldest = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert declined_invoice.number in newest and "Failed" in newest and "9995" in newest
    assert paid_invoice.number in oldest and "Succeeded" in oldest and "€242.00" in oldest
    assert "Visa •••• 4242" in oldest and receipt.number in oldest
    if size == "phone":
        # Stacked: the column names are hidden and each cell carries its own label.
        assert page.locator("#payment-history thead").bounding_box()["height"] <= 1
        cell = rows.nth(1).locator("td[data-label=Amount]")
        label = cell.evaluate("el => getComputedStyle(el, '::before').content")
        assert label == '"Amount"'
        box, row_box = cell.bounding_box(), rows.nth(1).bounding_box()
        assert box["width"] > row_box["width"] * 0.9  # a cell spans the row: stacked, not a column
    nothing_overflows(page, "payment history")

    with page.expect_download() as download_info:
        rows.nth(1).locator("a.document-link").click()
    download = download_info.value
    assert download.suggested_filename == f"{receipt.number}.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")

    # The invoice's page lists the same receipt.
    rows.nth(1).locator(f"text={paid_invoice.number}").click()
    page.wait_for_url(f"**/invoices/{paid_invoice.pk}/")
    receipts = page.locator("#receipts")
    assert receipt.number in receipts.inner_text() and "Visa •••• 4242" in receipts.inner_text()
