"""Browser journeys of the two help-article paths: PO-3 (web direct, in Dutch) and
PO-4 (enterprise Usage summary, in English)."""

import pytest

from billing_portal import clock
from tests.purchase_orders.conftest import make_charge

pytestmark = pytest.mark.django_db(transaction=True)


def test_po_3_web_direct_payment_methods_invoice_row_in_dutch(page, sign_in):
    from accounts import demo as accounts_demo

    demo = accounts_demo.seed()
    sign_in("wd.admin@fabrikam.example")  # Bram Jansen uses the portal in Dutch

    # Abonnementen › Fabrikam Hoofdabonnement › Betalingsmethoden › Factuur
    page.click("nav.mainnav a[href='/subscriptions/']")
    page.click("text=Fabrikam Hoofdabonnement")
    page.click("nav.side-menu a[href$='/payment-methods/']")
    page.click("#invoice-row a")
    assert page.locator("h1").inner_text() == "Factuur"
    assert page.locator("#current-po").inner_text() == "PO-FAB-2026-001"

    # Bad input: a clear Dutch message and nothing saved.
    page.fill("input[name=po_number]", "X" * 51)
    page.click("main button[type=submit]")
    assert "Maximaal 50 tekens" in page.content()
    assert page.locator("#current-po").inner_text() == "PO-FAB-2026-001"

    page.fill("input[name=po_number]", "  PO-FAB-2026-002  ")
    page.click("main button[type=submit]")
    assert "Het PO-nummer is opgeslagen" in page.locator(".messages").inner_text()
    assert page.locator("#current-po").inner_text() == "PO-FAB-2026-002"
    history = page.locator("#history-heading + table tbody tr").first.inner_text()
    assert "PO-FAB-2026-001" in history and "PO-FAB-2026-002" in history and "Volgende factuur" in history

    demo.profiles["fabrikam"].refresh_from_db()
    assert demo.profiles["fabrikam"].po_number == "PO-FAB-2026-002"


def test_po_4_enterprise_usage_summary_view_edit_po_numbers(page, sign_in):
    from accounts import demo as accounts_demo

    demo = accounts_demo.seed()
    northwind = demo.profiles["northwind"]
    previous = clock.previous_month(clock.month_start(clock.today(northwind.account.time_zone)))
    make_charge(northwind, previous, amount="120.00")
    make_charge(northwind, previous, service="Storage", amount="30.50")
    sign_in("ea.admin@northwind.example")

    # Reports › Usage summary › pick the billing period › View/Edit PO numbers › Save
    page.click("nav.mainnav >> text=Usage summary")
    page.select_option("select[name=period]", f"{previous:%Y-%m}")
    page.click("main form.filters button[type=submit]")
    assert "€150.50" in page.locator("main").inner_text()
    assert "default: the enrollment number" in page.locator("#period-po").inner_text()
    assert "until the invoice for this billing period is generated" in page.content()

    page.click("text=View/Edit PO numbers")
    page.fill("input[name=po_number]", "NW-4500098765")
    page.click("main button[type=submit]")
    assert "The PO number was saved" in page.locator(".messages").inner_text()
    assert page.locator("#period-po").inner_text().startswith("NW-4500098765")

    from purchase_orders.selectors import po_numbers_in_force

    assert po_numbers_in_force([northwind], previous)[northwind.pk] == "NW-4500098765"
